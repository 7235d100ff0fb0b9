"""Hypothesis profiles: "ci" (the default; the whole suite stays within about ten
minutes on two cores) and "deep" (far more examples, for long runs). Pick one with
HYPOTHESIS_PROFILE=deep."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=2500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


#: The phases of a test expected to fail for now: the quick profile skips shrinking (a known
#: failure costs one example, not a shrink); the deep one shrinks, to name what breaks.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate) + ((Phase.shrink,) if PROFILE == "deep" else ())


def examples(ci: int, deep: int | None = None) -> int:
    """A test's example count: ``ci`` in the quick profile; ``deep`` (default 2,000) in the
    deep one. (A test's own ``settings(max_examples=...)`` would override the profile.)"""
    return ci if PROFILE != "deep" else (deep if deep is not None else max(2000, ci))
