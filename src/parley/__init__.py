"""Parley: mediated negotiation of written agreements that are written, witnessed and endorsed."""

__version__ = "0.1.0"
