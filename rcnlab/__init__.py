"""rcnlab: a terminal lab that emulates a storage Remote Copy Network (RCN)."""

__version__ = "0.1.0"
