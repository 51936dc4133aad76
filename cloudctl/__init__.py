"""cloudctl: shared cloud, extranet coverage and isolation gateways for e-government."""

__version__ = "0.1.0"
