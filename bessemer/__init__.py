"""Bessemer's application layer: the command line, the ZMQ nodes, and the stack composed in one process."""

__version__ = "0.1.0"
