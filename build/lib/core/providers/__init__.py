"""Speech-to-text, reply generation and text-to-speech behind small interfaces."""
