"""Tasks: a policy, its scene and the simulated senses it needs, composed for one job (walking to a sound)."""
