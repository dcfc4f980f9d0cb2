"""Bessemer's application layer: the command line (and, later, the ZMQ nodes)."""

__version__ = "0.1.0"
