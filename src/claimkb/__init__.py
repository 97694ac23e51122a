"""claimkb: a literature and claim-tracking knowledge base."""

__version__ = "0.1.0"
