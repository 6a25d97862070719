import dataclasses

import pytest

from simulate import Scenario


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """Two months of the default world: quick to run, everything present."""
    return Scenario(months=2)


@pytest.fixture(scope="session")
def plain_world():
    """Factory for a UTC world with no campaigns: its expected counts have a closed form."""

    def make(**arrivals) -> Scenario:
        s = Scenario(timezone="UTC")
        return s.replace(arrivals=dataclasses.replace(s.arrivals, **{"campaigns": (), **arrivals}))

    return make


# Property tests explore new random cases on every developer run; CI (CI=true) replays a
# fixed derandomised set so that a submission's result does not depend on luck.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if __import__("os").environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
collect_ignore = ["pinned/capture.py"]  # a script that writes pinned.json, not tests
