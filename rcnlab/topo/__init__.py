"""Topology files: the frozen schema, loading and validation, routing."""
