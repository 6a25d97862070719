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
