"""Speech-to-speech providers (issue 19): one model hears the person and answers aloud."""
