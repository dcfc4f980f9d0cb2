"""The low-level control layer: fixed-rate loop, FSM, safety monitors and command shaping."""
