"""Walkthroughs: narrated, checked plays of the patent's flows (Fig. 9-13, 16-22).

``model`` loads and validates a walkthrough file, ``engine`` plays it step by step
on a network (headless, or driven by the TUI), ``cli`` is ``rcnlab walkthrough``.
"""
