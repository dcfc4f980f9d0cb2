"""Policies: the observation contract, inference at run time, and (in `training`) learning them in simulation."""
