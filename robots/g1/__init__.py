"""The Unitree G1: joint table, poses, variants and the project's own MJCF model."""
