"""Multimodal perception: vision patches, audio codebooks, sound bearing; training of its models in `training`."""
