"""Training perception models on simulated data: the only perception code that imports `sim`."""
