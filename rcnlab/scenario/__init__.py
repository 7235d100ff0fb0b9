"""Scenario files and the runner that plays them on a network."""
