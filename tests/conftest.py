"""Shared test settings."""

from hypothesis import HealthCheck, settings

# Property tests check behaviour, never speed: on a loaded 2-core CI machine a single example
# can take longer than hypothesis' default 200 ms deadline, which would be a false failure.
settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("project")
