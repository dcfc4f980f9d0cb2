"""MuJoCo simulation of the G1: the world, and the simulated robot behind the robot interface."""
