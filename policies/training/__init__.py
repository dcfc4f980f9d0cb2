"""Training policies in simulation: the only policy code that imports `sim`."""
