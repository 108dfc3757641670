"""tiyan (体验): open-source customer experience management."""

__version__ = "0.1.0"
