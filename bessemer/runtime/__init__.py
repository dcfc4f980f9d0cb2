"""The stack in one process: robot, safety, FSM, controller and loop; scripted runs; a policy in the loop."""
