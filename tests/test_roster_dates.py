"""Reps who join or leave the team (``Rep.joins``, ``Rep.leaves``): routing passes them over
off the team, and they have no working hours there."""

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate.calendar import WorkingCalendar
from simulate.queue import serve_queue
from simulate.team import Rep, Team

DAY = 1440.0
DAYS = 30
OPEN = np.array([[540.0 + DAY * d, 1020.0 + DAY * d] for d in range(DAYS)])


def _reference_round_robin(handoff: np.ndarray, on_team: np.ndarray) -> np.ndarray:
    """A slow rotation: each lead, in handoff order, to the next rep on the team then."""
    reps = on_team.shape[0]
    rot, owner = 0, np.empty(handoff.size, dtype=np.int64)
    for k in np.argsort(handoff, kind="stable"):
        here = [
            (rot + i) % reps
            for i in range(reps)
            if on_team[(rot + i) % reps, 0] <= handoff[k] < on_team[(rot + i) % reps, 1]
        ]
        owner[k] = here[0] if here else rot
        rot = (owner[k] + 1) % reps
    return owner


def _leads(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return np.sort(rng.uniform(0, DAYS * DAY, n)), rng.uniform(5.0, 30.0, n)


@pytest.mark.parametrize("attempts", [1, 3])  # 1: the one-pass path, 3: the event-driven one
def test_round_robin_turns_among_the_reps_on_the_team(attempts):
    handoff, work = _leads(400, seed=attempts)
    on_team = np.array([[-np.inf, np.inf], [5 * DAY, np.inf], [-np.inf, 12 * DAY], [-np.inf, np.inf]])
    cals = [OPEN[(OPEN[:, 1] > lo) & (OPEN[:, 0] < hi)].clip(lo, hi) for lo, hi in on_team]
    res = serve_queue(
        handoff,
        work,
        rep_intervals=cals,
        rep_on_team=on_team,
        attempts=np.full(handoff.size, attempts),
        attempt_gap_minutes=[60.0, 1440.0] if attempts > 1 else None,
        attempt_minutes=5.0 if attempts > 1 else None,
    )
    expected = _reference_round_robin(handoff, on_team)
    touched = res.rep >= 0
    np.testing.assert_array_equal(res.rep[touched], expected[touched])
    assert not ((handoff < 5 * DAY) & (res.rep == 1)).any()
    assert not ((handoff >= 12 * DAY) & (res.rep == 2)).any()


@pytest.mark.parametrize("routing", ["least_loaded", "open_hours", "pooled"])
def test_other_routings_pass_over_a_rep_who_left(routing):
    handoff, work = _leads(300, seed=7)
    leaves = 10 * DAY
    on_team = np.array([[-np.inf, np.inf], [-np.inf, np.inf], [-np.inf, leaves]])
    cals = [OPEN, OPEN, OPEN[OPEN[:, 1] <= leaves]]
    res = serve_queue(handoff, work, rep_intervals=cals, routing=routing, rep_on_team=on_team)
    assert not ((handoff >= leaves) & (res.rep == 2)).any()
    assert ((handoff < leaves) & (res.rep == 2)).any()


def test_everyone_always_on_the_team_changes_nothing():
    handoff, work = _leads(300, seed=3)
    for routing in ("round_robin", "least_loaded", "pooled"):
        plain = serve_queue(handoff, work, rep_intervals=[OPEN] * 3, routing=routing)
        given = serve_queue(
            handoff, work, rep_intervals=[OPEN] * 3, routing=routing, rep_on_team=[[-np.inf, np.inf]] * 3
        )
        np.testing.assert_array_equal(plain.rep, given.rep)
        np.testing.assert_array_equal(plain.first_touch_at, given.first_touch_at)


def test_days_on_the_team_are_local_midnights():
    berlin = WorkingCalendar(timezone="Europe/Berlin")
    rep = Rep(name="eva", calendar=berlin, joins="2027-03-01", leaves="2027-07-01")
    lo, hi = rep.on_team_minutes(dt.date(2027, 1, 1))
    origin = pd.Timestamp("2027-01-01", tz="UTC")
    assert lo == (pd.Timestamp("2027-03-01", tz="Europe/Berlin") - origin).total_seconds() / 60
    assert hi == (pd.Timestamp("2027-07-01", tz="Europe/Berlin") - origin).total_seconds() / 60
    team = Team(roster=(rep, Rep(name="max", calendar=berlin)), shrinkage=0.0)
    cut, whole = team.working_intervals(dt.date(2027, 1, 1), 365, rng=1)
    assert cut[:, 0].min() >= lo and cut[:, 1].max() <= hi
    assert len(cut) > 0 and whole[:, 1].max() > hi
    np.testing.assert_array_equal(team.on_team_minutes(dt.date(2027, 1, 1)), [[lo, hi], [-np.inf, np.inf]])
    assert Team(roster=(Rep(name="max"),)).on_team_minutes(dt.date(2027, 1, 1)) is None


def test_a_grown_team_keeps_the_dates_of_the_reps_it_copies():
    team = Team(roster=(Rep(name="a", leaves="2027-05-01"), Rep(name="b")))
    grown = team.with_size(3)
    assert [r.leaves for r in grown.roster] == ["2027-05-01", None, "2027-05-01"]


def test_bad_dates_are_refused_with_the_rep_and_the_field():
    with pytest.raises(ValueError, match=r"Rep 'a': leaves must be an ISO date.*'July'"):
        Rep(name="a", leaves="July")
    with pytest.raises(ValueError, match=r"Rep 'a': joins \(2027-05-01\) must be before leaves \(2027-04-01\)"):
        Rep(name="a", joins="2027-05-01", leaves="2027-04-01")
    with pytest.raises(ValueError, match=r"rep_on_team must be \(reps, 2\)"):
        serve_queue([1.0], [5.0], rep_intervals=[OPEN], rep_on_team=[[0.0, 1.0, 2.0]])
    with pytest.raises(ValueError, match=r"rep_on_team, rep 0: from 5.0 must be before to 1.0"):
        serve_queue([1.0], [5.0], rep_intervals=[OPEN], rep_on_team=[[5.0, 1.0]])


def test_a_simulated_rep_who_leaves_takes_no_lead_after_his_last_day():
    s = simulate.Scenario(months=2)
    leaves = "2026-02-01"
    roster = tuple(Rep(name=f"rep_{i}", calendar=s.team.calendar, leaves=leaves if i == 3 else None) for i in range(4))
    leads = simulate.run(s.replace(team=dataclasses.replace(s.team, roster=roster)), seed=2).leads
    gone = pd.Timestamp(leaves, tz=s.team.calendar.timezone)
    by_leaver = leads["rep_id"] == "rep_3"
    assert by_leaver.any()
    assert not (by_leaver & (leads["first_touch_at"] >= gone)).any()
    after = leads["mql_at"] >= gone
    counts = leads.loc[after, "rep_id"].value_counts()
    assert set(counts.index) == {"rep_0", "rep_1", "rep_2"}
    # the three share the rotation: each count within 4 binomial SEs of a third
    n = counts.sum()
    assert (abs(counts - n / 3) <= 4 * np.sqrt(n * (1 / 3) * (2 / 3))).all()


def test_the_analytic_model_counts_a_leaver_only_while_on_the_team_and_says_it_is_not_validated():
    import calibrate
    from calibrate.sla.analytic import _team_hours
    from calibrate.sla.validity import _setting_reasons

    start = dt.date(2027, 1, 1)
    cal = WorkingCalendar()
    whole = Team(roster=tuple(Rep(name=f"r{i}", calendar=cal) for i in range(4)))
    half = Team(roster=(*whole.roster[:3], Rep(name="r3", calendar=cal, leaves="2027-07-01")))
    union, share = _team_hours(half, start, 365)
    hours = cal.intervals(start, 365)
    before = hours[hours[:, 1] <= half.on_team_minutes(start)[3, 1]]
    expected = (3 * (hours[:, 1] - hours[:, 0]).sum() + (before[:, 1] - before[:, 0]).sum()) / (
        4 * (hours[:, 1] - hours[:, 0]).sum()
    )
    assert share == pytest.approx(expected, rel=1e-12)
    assert _team_hours(whole, start, 365)[1] == 1.0
    reasons = _setting_reasons(calibrate.SalesCapacity(team=half, sla=simulate.SLA()))
    assert any("Rep.leaves" in r for r in reasons)
