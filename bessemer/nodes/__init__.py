"""The stack's processes: the low-level node (loop + FSM + robot), the policy node, the perception node."""
