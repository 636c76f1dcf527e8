"""Fixtures shared by several test modules, and the one Hypothesis profile of the suite."""

from hypothesis import HealthCheck, settings

from tests.support.pgserver import pg, server  # noqa: F401  (pytest fixtures)

# One profile for every property test, fit for a loaded 2-core machine (CI runs the suite beside
# PostgreSQL and Chromium): no per-example deadline, and no "too slow" health check, which a
# busy machine trips at random. A test's own @settings (its max_examples) adds to this profile.
settings.register_profile(
    "govmon",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.load_profile("govmon")
