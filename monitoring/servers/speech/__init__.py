"""Scripted stand-ins for the speech-to-speech APIs (no network here): each follows its
API's published event sequence and misbehaves when asked (``faults``)."""
