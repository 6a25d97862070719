"""The sales side's capacity, the time window and team resizing: one object each, one default each."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate.capacity import BAD_DATA_SHARE, CONTACT_RATE, SalesCapacity, Window
from simulate.queue import QUEUE_PAD_DAYS
from simulate.seeding import child_seeds, seed_list


def test_a_roster_is_cut_or_repeated_in_order():
    ny = simulate.WorkingCalendar(timezone="America/New_York")
    berlin = simulate.WorkingCalendar(timezone="Europe/Berlin")
    team = simulate.Team(roster=(simulate.Rep(name="ann", calendar=ny), simulate.Rep(name="bob", calendar=berlin)))
    assert team.with_size(1).rep_names == ("ann",)
    grown = team.with_size(5)
    assert grown.rep_names == ("ann", "bob", "ann~1", "bob~1", "ann~2")
    # the mix of time zones is kept: every copy works its original's hours
    assert [c.timezone for c in grown.calendars] == [
        "America/New_York",
        "Europe/Berlin",
        "America/New_York",
        "Europe/Berlin",
        "America/New_York",
    ]
    assert simulate.Team().with_size(6).size == 6
    regrown = grown.with_size(6)  # a grown team grows again: names stay unique
    assert regrown.rep_names[:5] == grown.rep_names and len(set(regrown.rep_names)) == 6
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="a team needs at least one rep"):
            team.with_size(bad)


def test_a_grown_team_keeps_the_calendars_of_its_first_reps():
    team = simulate.Team(reps=3)
    small = team.working_intervals(dt.date(2026, 1, 1), 30, rng=7)
    large = team.with_size(5).working_intervals(dt.date(2026, 1, 1), 30, rng=7)
    for a, b in zip(small, large[:3]):
        np.testing.assert_array_equal(a, b)


def test_capacity_defaults_and_changes():
    cap = SalesCapacity()
    assert cap.contact_rate == CONTACT_RATE and cap.bad_data_share == BAD_DATA_SHARE
    assert cap.team == simulate.Team() and cap.sla == simulate.SLA() and cap.funnel == simulate.Funnel()
    assert cap.with_reps(7).team.size == 7 and cap.team.size == 4
    longer = cap.with_sla_hours(24)
    assert longer.sla.hours == 24.0 and longer.sla.clock == cap.sla.clock and longer.sla.target == cap.sla.target
    world = simulate.Scenario()
    from_world = SalesCapacity.from_scenario(world, contact_rate=0.5)
    assert from_world.team == world.team and from_world.sla == world.sla and from_world.contact_rate == 0.5
    with pytest.raises(dataclasses.FrozenInstanceError):
        cap.contact_rate = 0.1


def test_capacity_refuses_what_cannot_be_a_share():
    for bad in (-0.1, 1.5, float("nan"), [[0.5]]):
        with pytest.raises(ValueError, match=r"SalesCapacity.contact_rate must be a share in \[0, 1\]"):
            SalesCapacity(contact_rate=bad)
    with pytest.raises(TypeError, match=r"SalesCapacity.team must be a simulate.Team"):
        SalesCapacity(team=4)
    per_lead = SalesCapacity(bad_data_share=[0.0, 0.1, 0.2])
    np.testing.assert_array_equal(per_lead.bad_data_share, [0.0, 0.1, 0.2])


def test_window_spans_whole_utc_days():
    first = pd.Timestamp("2026-01-01 03:00", tz="America/New_York")  # 08:00 UTC
    last = pd.Timestamp("2026-01-03 01:00", tz="UTC")
    w = Window.spanning(first, last)
    assert w.start == dt.date(2026, 1, 1) and w.days == 3
    assert w.queue_days == 3 + QUEUE_PAD_DAYS and Window(start=w.start, days=3, pad_days=0).queue_days == 3
    assert w.minutes(pd.Series([first]))[0] == pytest.approx(8 * 60)
    assert w.months == pytest.approx(3 / (365.25 / 12))
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="Window.days must be an integer >= 1"):
            Window(start=dt.date(2026, 1, 1), days=bad)
    with pytest.raises(TypeError, match="Window.start must be a datetime.date"):
        Window(start=pd.Timestamp("2026-01-01"), days=3)


def test_child_seeds_are_stable_and_extend():
    assert child_seeds(5, 3) == child_seeds(5, 10)[:3]
    assert len(set(child_seeds(5, 50))) == 50
    assert child_seeds(5, 3) != child_seeds(6, 3)
    assert seed_list(3, seed=5) == child_seeds(5, 3)
    assert seed_list([9, 8]) == [9, 8]
    for bad in (0, -2, [], True, ["x"]):
        with pytest.raises(ValueError, match="seeds must"):
            seed_list(bad)
