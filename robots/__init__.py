"""Robot descriptions and the one interface every backend (simulated or real) implements."""
