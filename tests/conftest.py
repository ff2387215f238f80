"""Shared test settings."""

import os

from hypothesis import HealthCheck, settings

# Property tests check behaviour, never speed: on a loaded 2-core CI machine a single example
# can take longer than hypothesis' default 200 ms deadline, which would be a false failure.
settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
# CI explores the same examples every run (a failure there is reproducible from its log);
# a developer's runs keep exploring new ones.
settings.register_profile("ci", parent=settings.get_profile("project"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "project")
