"""The fitted world: learned from a history where the history has it, assumed and said so
where it does not, and able to reproduce the past it was fitted to.

The references are the simulator's known truth (the scenario that made the history) and the
history itself (its replay)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import fit_world, recommend, replay
from calibrate.history import History
from calibrate.inputs import history_window
from calibrate.verification import verify
from simulate.arrivals import expected_daily_leads
from simulate.funnel import Funnel, ResponseDecay


def _expected_leads(scenario: simulate.Scenario) -> float:
    """The truth: expected leads over the scenario's days, base flow and campaigns."""
    base = expected_daily_leads(scenario).sum()
    return float(base + sum(c.extra_leads for c in scenario.arrivals.campaigns))


@pytest.fixture(scope="module")
def default_world():
    scenario = simulate.Scenario()
    result = simulate.run(scenario, seed=1)
    history = History.from_run(result)
    return scenario, history, fit_world(history, bootstrap=100)


SLOW_DECAY = ResponseDecay(phases=((0.5, 240.0),), floor=0.5)


@pytest.fixture(scope="module")
def other_world():
    """Another company: Berlin, fewer leads, no campaigns, a slower response decay, 3 reps."""
    s = simulate.Scenario(timezone="Europe/Berlin")
    calendar = dataclasses.replace(
        s.team.calendar, timezone="Europe/Berlin", start_hour=8.0, end_hour=18.0, holidays=()
    )
    s = s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=1800.0, campaigns=()),
        team=dataclasses.replace(s.team, reps=3, calendar=calendar),
        sla=dataclasses.replace(s.sla, calendar=calendar),
        funnel=dataclasses.replace(
            Funnel(), connect_decay=SLOW_DECAY, qualify_decay=ResponseDecay(phases=(), floor=1.0)
        ),
    )
    history = History.from_run(simulate.run(s, seed=3))
    return s, history, fit_world(history, bootstrap=100)


@pytest.mark.parametrize("name", ["default_world", "other_world"])
def test_arrival_rate_within_3_percent_of_the_truth(name, request):
    truth, _, world = request.getfixturevalue(name)
    assert world.months == truth.months
    fitted = _expected_leads(world.scenario)
    assert fitted == pytest.approx(_expected_leads(truth), rel=0.03)


@pytest.mark.parametrize("name", ["default_world", "other_world"])
def test_response_effect_interval_covers_the_true_curve(name, request):
    truth, _, world = request.getfixturevalue(name)
    f = truth.funnel
    effect = world.response
    assert effect.fitted and effect.n_outcomes >= 50
    for hours in (1.0, 8.0, 24.0):
        true = float(f.connect_decay(np.array([hours * 60]))[0] * f.qualify_decay(np.array([hours * 60]))[0])
        low, high = effect.interval(hours)
        assert low <= true <= high, (hours, true, low, high)
        assert high - low < 0.35  # an interval that says something


@pytest.mark.parametrize("name", ["default_world", "other_world"])
def test_the_decay_the_world_simulates_is_the_true_one(name, request):
    """The world's funnel splits the wait's effect between acceptance and qualification
    (each fitted to its own stage, on the first trip): their product is the true decay, to
    within the sampling error of the overall effect (half its 95% interval) at 1, 8 and 24 h.
    A second trip's SAL or SQL counted as a pass of the first flattens it."""
    truth, _, world = request.getfixturevalue(name)
    f, g = truth.funnel, world.scenario.funnel
    for hours in (1.0, 8.0, 24.0):
        t = np.array([hours * 60])
        true = float(f.connect_decay(t)[0] * f.qualify_decay(t)[0])
        simulated = float(g.connect_decay(t)[0] * g.qualify_decay(t)[0])
        low, high = world.response.interval(hours)
        assert abs(simulated - true) <= (high - low) / 2, (hours, simulated, true, low, high)


def test_team_hours_and_size_are_read_from_first_touches(other_world):
    truth, _, world = other_world
    team = world.scenario.team
    assert team.size == truth.team.size
    for cal in team.calendars:
        assert (cal.start_hour, cal.end_hour) == (8.0, 18.0)
        assert cal.weekdays == (0, 1, 2, 3, 4)
        assert cal.timezone == "Europe/Berlin"


def test_replay_reproduces_the_history(default_world):
    _, history, world = default_world
    rp = replay(history, world, seeds=8)
    assert rp.flags == [], rp.summary()
    totals = rp.totals
    for figure in ("mqls", "wins"):
        assert abs(totals.loc[figure, "relative_gap"]) < 0.10
    assert "SLA met" in rp.summary()


def test_replay_flags_a_world_that_gets_the_team_wrong(default_world):
    _, history, world = default_world
    slow = world.replace(team=world.scenario.team.with_size(1))
    assert "SLA met (share)" in replay(history, slow, seeds=3).flags


def test_every_part_says_fitted_or_assumed(default_world):
    _, _, world = default_world
    basis = world.parts["basis"]
    assert basis.str.match(r"^(fitted from [\d,]+ leads|given|assumed \(.+\))$").all()
    assumed = world.parts.loc[~world.parts["fitted"], "part"].tolist()
    assert "team: work per touch and cadence" in assumed
    text = world.summary()
    assert all(len(line) <= 80 for line in text.splitlines())


def test_a_run_is_reproducible_and_rules_keep_the_leads(default_world):
    truth, _, world = default_world
    a, b = world.run(4), world.run(4)
    pd.testing.assert_frame_equal(a.leads, b.leads)
    other = world.replace(rules=truth.rules).run(4)
    pd.testing.assert_series_equal(a.leads["created_at"], other.leads["created_at"])
    pd.testing.assert_series_equal(a.leads["source"], other.leads["source"])


def test_history_without_touches_amounts_or_counts_still_gives_a_world(default_world):
    _, history, _ = default_world
    drop = ["first_touch_at", "rep_id", "sla_met", "amount", "page_views", "pricing_page_views"]
    leads = history.leads.drop(columns=drop)
    bare = dataclasses.replace(history, leads=leads, events=None, counts_at="end")
    world = fit_world(bare, bootstrap=0)
    parts = world.parts.set_index("part")
    assert not world.response.fitted and "prior" in world.response.source
    assert parts.loc["team: reps and hours", "basis"].startswith("assumed")
    assert parts.loc["funnel: deal amounts", "basis"].startswith("assumed")
    assert not world.has_amounts
    run = world.run(0)
    assert run.leads["mql_at"].notna().sum() > 0


def test_mql_window_is_not_the_outcome_window():
    """An export taken 8 months after its last lead: per-month figures use the months in
    which leads arrived, not the months up to the last won date."""
    s = simulate.Scenario(months=6)
    result = simulate.run(s, seed=2)
    late = pd.Timestamp(s.end_date, tz="UTC") + pd.Timedelta(days=240)
    history = dataclasses.replace(History.from_run(result), as_of=late)
    window = history_window(history)
    assert window.days == pytest.approx(s.days, abs=1)
    world = fit_world(history, bootstrap=0, refine=False)
    assert world.months == 6
    assert world.mql_window[0] == dt.date.fromisoformat(s.start)


def test_recommend_runs_in_the_fitted_world_and_lists_its_inputs(default_world):
    truth, history, world = default_world
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = recommend(history, world=world, sla=truth.sla, current_rules=truth.rules, simulate_seeds=2, bootstrap=20)
    assert rec.world.sample is world.sample and rec.world.scenario.sla == truth.sla
    assert rec.constraints["reps"] == world.scenario.team.size
    inputs = rec.inputs.set_index("input")
    assert inputs.loc["response-time effect", "basis"].startswith("fitted from")
    assert inputs.loc["work per touch", "basis"].startswith("assumed")
    summary = rec.summary()
    assert "Inputs:" in summary and all(len(line) <= 80 for line in summary.splitlines())
    # revenue lost to slow response is part of the revenue a zero wait would bring
    lost, revenue = rec.expected["revenue_lost_per_month"].value, rec.expected["revenue_per_month"].value
    assert 0 <= lost < lost + revenue
    checked = verify(rec, seeds=2)
    assert set(checked["arm"]) == {"recommended", "current"}


def test_without_amounts_revenue_is_not_shown_as_money(default_world):
    truth, history, world = default_world
    leads = history.leads.drop(columns=["amount"])
    bare = dataclasses.replace(history, leads=leads)
    with pytest.warns(UserWarning, match="no deal amounts"):
        rec = recommend(bare, world=world, sla=truth.sla, simulate_seeds=0, bootstrap=0)
    assert rec.objective == "wins"
    assert "revenue_per_month" not in rec.expected
    assert "revenue a month" not in rec.summary()


def test_a_utc_export_of_a_new_york_team_gets_new_york_hours(default_world):
    """Times exported in UTC: the reps' day moves by the daylight-saving hour there, so their
    hours are read in the zone where it does not move (9 to 5 in New York, not 13 to 22 UTC)."""
    _, history, _ = default_world
    utc = dataclasses.replace(history, mapping=dataclasses.replace(history.mapping, timezone="UTC"))
    world = fit_world(utc, bootstrap=0, refine=False)
    for cal in world.scenario.team.calendars:
        assert (cal.timezone, cal.start_hour, cal.end_hour) == ("America/New_York", 9.0, 17.0)
    assert world.scenario.sla.calendar.timezone == "America/New_York"


def test_an_export_without_sal_and_sql_dates_still_replays_its_wins(default_world):
    """A stage counts as reached where a later one is dated: an export with opportunities and
    wins but no SAL or SQL dates (many CRMs) is not read as 'nobody qualified'."""
    _, history, _ = default_world
    leads = history.leads.copy()
    for column in ("sal_at", "sql_at"):
        leads[column] = pd.Series(pd.NaT, index=leads.index, dtype=leads[column].dtype)
    bare = dataclasses.replace(history, leads=leads)
    world = fit_world(bare, bootstrap=0)
    totals = replay(bare, world, seeds=4).totals
    assert totals.loc["wins", "inside"], totals
