"""MuJoCo simulation of the G1: the world, the simulated robot behind the robot interface, its DDS bridge, and the Gymnasium envs."""
