"""chipwire: semiconductor-policy news, from feeds to search and stance-shift alerts.

This package is the spine every stage shares: the message contract, settings,
the bus and the CLI that wires the stages together.
"""

__version__ = "0.1.0"
