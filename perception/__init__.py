"""Multimodal perception (vision patches, audio codebooks, sound bearing): arrives with its own issue."""
