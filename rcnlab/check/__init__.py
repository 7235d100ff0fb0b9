"""Checkers of SPEC.md section 4 (invariants.py) and the fuzzer's generators."""
