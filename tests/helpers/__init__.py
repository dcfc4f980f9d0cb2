"""Code that several test modules share and that is not itself a test module."""
