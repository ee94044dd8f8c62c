"""niches: choose a portfolio of functional niches for a middle power."""

__version__ = "0.1.0"
