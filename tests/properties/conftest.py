"""Property-based tests: one fixed hypothesis profile, so every run (and CI) tries the same cases.

`ci` (the default) is derandomized with no example database: the examples are a function
of the test alone. Set HYPOTHESIS_PROFILE=explore to search with fresh random examples.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "explore", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=500
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
