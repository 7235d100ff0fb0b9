"""Seed campaigns: random labs (``gen``) run against the invariant checkers (``campaign``,
the ``rcnlab fuzz`` command)."""
