"""Tests for calibrate.sla's analytic model: work per MQL, the per-lead pass, closed forms,
invariants (more reps, higher thresholds, team size needed) and the input checks.

Each check has an independent reference: a Monte Carlo of the attempt cadence for the work
per MQL, ``SLA.deadlines`` and ``to_working_time`` for the slack,
``simulate.erlang.expected_decay`` for the decay closed form, and invariants. The checks
against the queue engine are in ``test_sla_simulated.py``, the validity rule and the fixes
of the model in ``test_sla_validity.py``.
"""

import dataclasses

import numpy as np
import pytest

import simulate
from calibrate._testing import SLA_START, SLA_YEAR, default_sales, thresholds_for
from calibrate._testing import year_of_handoffs as default_year_of_handoffs
from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import (
    LOAD_COLUMNS,
    analytic_load,
    simulated_load,
    work_per_mql,
)
from calibrate.sla.analytic import _prepare
from simulate.calendar import ALWAYS_OPEN, WorkingCalendar, to_working_time
from simulate.erlang import expected_decay, prob_wait_within
from simulate.team import Duration

START, YEAR = SLA_START, SLA_YEAR
DAYS = YEAR.days
# The simulated checks name their seeds (0, 1, ...): the tolerances below were set on these
# seeds, when a count n meant seeds 0 .. n-1 (a count now means the children of ``seed``).


sales = default_sales


@pytest.fixture(scope="module")
def year_of_handoffs():
    return default_year_of_handoffs()


# --------------------------------------------------------------------------------------
# Work per MQL
# --------------------------------------------------------------------------------------


def monte_carlo_work(team, contact_rate, bad_data_share, attempt_connect_share, n, rng):
    """Draw the attempts one way simulate.funnel does it, independently of calibrate.sla."""
    bad = rng.random(n) < bad_data_share
    reachable = rng.random(n) < contact_rate
    answer = np.ones(n, dtype=int)
    pending = np.ones(n, dtype=bool)
    for k in range(1, team.attempts + 1):  # geometric by repeated trials, then truncated
        hit = pending & (rng.random(n) < attempt_connect_share)
        answer[hit] = k
        pending &= ~hit
    # truncation: a reachable lead answers within the cadence, so redraw the ones who did not
    while pending.any():
        m = int(pending.sum())
        ans = np.ones(m, dtype=int)
        still = np.ones(m, dtype=bool)
        for k in range(1, team.attempts + 1):
            hit = still & (rng.random(m) < attempt_connect_share)
            ans[hit] = k
            still &= ~hit
        idx = np.flatnonzero(pending)
        answer[idx[~still]] = ans[~still]
        pending[idx[~still]] = False
    attempts = np.where(bad, 1, np.where(reachable, answer, team.attempts))
    work = team.first_touch.draw(n, rng)
    for j in range(1, team.attempts):
        work = work + np.where(attempts > j, team.follow_up.draw(n, rng), 0.0)
    return work


@pytest.mark.parametrize("contact, bad", [(0.68, 0.04), (0.2, 0.3), (1.0, 0.0)])
def test_work_per_mql_matches_a_monte_carlo_of_the_cadence(contact, bad):
    team = simulate.Team()
    rng = np.random.default_rng(7)
    work = monte_carlo_work(team, contact, bad, 0.4, 400_000, rng)
    mean, cv2 = work_per_mql(team, contact_rate=contact, bad_data_share=bad, attempt_connect_share=0.4)
    se = work.std() / np.sqrt(work.size)
    assert abs(mean - work.mean()) < 4 * se
    assert cv2 == pytest.approx(work.var() / work.mean() ** 2, rel=0.02)


def test_work_per_mql_edge_cases_and_arrays():
    team = simulate.Team()
    all_attempts, _ = work_per_mql(team, contact_rate=0.0)
    assert all_attempts == pytest.approx(team.first_touch.mean_minutes + 5 * team.follow_up.mean_minutes)
    only_first, cv2 = work_per_mql(team, contact_rate=0.5, bad_data_share=1.0)
    assert only_first == pytest.approx(team.first_touch.mean_minutes)
    assert cv2 == pytest.approx(np.expm1(team.first_touch.spread**2))
    means, cv2s = work_per_mql(team, contact_rate=np.array([0.0, 0.5, 1.0]))
    assert means.shape == (3,) and np.all(np.diff(means) < 0)  # reachable leads stop early


# --------------------------------------------------------------------------------------
# Per-lead preparation: deadlines and slack exactly as SLA.deadlines
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("clock", ["business", "calendar"])
def test_slack_sums_match_sla_deadlines(clock):
    """The compiled per-lead pass gives the slack that SLA.deadlines and to_working_time
    give, for an SLA calendar in another time zone than the team's."""
    rng = np.random.default_rng(3)
    n = 5000
    handoff = np.sort(rng.random(n)) * 60 * 1440
    score = rng.random(n)
    team = simulate.Team()
    sla = simulate.SLA(
        hours=10.0, clock=clock, calendar=WorkingCalendar(timezone="Europe/Berlin", start_hour=8, end_hour=18)
    )
    window = Window(start=START, days=60)
    capacity = SalesCapacity(team=team, sla=sla, funnel=simulate.Funnel(), contact_rate=0.7, bad_data_share=0.0)
    bins = _prepare(score, handoff, np.array([0.0]), capacity=capacity, window=window).queue.bins
    team_hours = team.calendar.intervals(START, window.queue_days)
    deadline = sla.deadlines(handoff, START, window.queue_days)
    after = np.searchsorted(team_hours[:, 1], handoff, side="right")
    inside = handoff >= team_hours[after, 0]
    avail = np.where(inside, handoff, team_hours[after, 0])
    fail = ~(deadline >= avail)
    slack = np.maximum(to_working_time(team_hours, deadline) - to_working_time(team_hours, avail), 0.0)
    ok = ~fail
    assert bins.inn[0, :, :, 1].sum() + bins.off[0, :, :, 1].sum() == fail.sum()
    assert bins.inn[0, :, :, 0].sum() == inside.sum()
    got = bins.inn[0, :, :, 2].sum() + bins.off[0, :, :, 2].sum()
    assert got == pytest.approx(slack[ok].sum(), rel=1e-9)


STEADY_TEAM = simulate.Team(reps=4, calendar=ALWAYS_OPEN, shrinkage=0.0, attempts=1, cadence_days=(), routing="pooled")
STEADY_SLA = simulate.SLA(hours=0.25, clock="calendar", breach="none", calendar=ALWAYS_OPEN)


def test_steady_value_kept_is_the_erlang_closed_form():
    """With exponential-like work (cv2 = 1, so the Allen-Cunneen factor is 1) the analytic
    value kept is ``sum_q w_q E[exp(-k_q W)]`` with ``E[exp(-k W)] = 1 - C k / (c mu - lambda
    + k)``: ``simulate.erlang.expected_decay`` summed over the phase pairs. (The model
    estimates the arrival rate over a week at a time, so it sees the load at 80% +- 2%;
    that noise costs it a few thousandths of compliance against the exact rate.)"""
    spread = float(np.sqrt(np.log(2.0)))  # log-normal with cv2 = exp(spread^2) - 1 = 1
    team = dataclasses.replace(STEADY_TEAM, first_touch=Duration(median_minutes=15.0, spread=spread))
    rng = np.random.default_rng(2)
    mean = team.first_touch.mean_minutes
    rate = 0.8 * team.reps / mean
    n = rng.poisson(rate * DAYS * 1440)
    handoff = np.sort(rng.random(n)) * DAYS * 1440
    funnel = simulate.Funnel()
    capacity = SalesCapacity(team=team, sla=STEADY_SLA, funnel=funnel, contact_rate=1.0, bad_data_share=0.0)
    a = analytic_load(np.ones(n), handoff, [1.0], capacity=capacity, window=YEAR)
    lam = n / (DAYS * 1440)
    closed = 0.0
    for w1, k1 in funnel.connect_decay.rates_per_minute:
        for w2, k2 in funnel.qualify_decay.rates_per_minute:
            closed += w1 * w2 * float(expected_decay(team.reps, lam, 1.0 / mean, k1 + k2))
    assert a["value_kept"].iloc[0] == pytest.approx(closed, abs=0.003)
    assert a["sla_compliance"].iloc[0] == pytest.approx(
        float(prob_wait_within(15.0, team.reps, lam, 1 / mean)), abs=0.01
    )


# --------------------------------------------------------------------------------------
# Invariants
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("routing", ["round_robin", "pooled"])
def test_adding_reps_never_lowers_analytic_compliance(year_of_handoffs, routing):
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    thresholds = thresholds_for(score, [1000, 5000, 12000, 30000])
    previous = None
    for reps in range(1, 13):
        team = dataclasses.replace(s.team, reps=reps, routing=routing)
        a = analytic_load(score, handoff, thresholds, capacity=sales(team=team), window=YEAR)
        now = a["sla_compliance"].to_numpy()
        if previous is not None:
            assert np.all(now >= previous - 1e-12), (reps, previous, now)
        previous = now


def test_reps_needed_is_the_smallest_team_meeting_the_target(year_of_handoffs):
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    thresholds = thresholds_for(score, [500, 3000, 8000, 20000])
    a = analytic_load(score, handoff, thresholds, capacity=sales(), window=YEAR)
    for threshold, need in zip(a["threshold"], a["reps_needed"]):

        def compliance(reps, threshold=threshold):
            capacity = sales().with_reps(int(reps))
            return analytic_load(score, handoff, [threshold], capacity=capacity, window=YEAR)["sla_compliance"].iloc[0]

        assert compliance(need) >= s.sla.target
        if need > 1:
            assert compliance(need - 1) < s.sla.target
    given = analytic_load(score, handoff, thresholds, capacity=sales(), window=YEAR, reps=[2, 4, 6])
    expected = [min([r for r in (2, 4, 6) if r >= need], default=-1) for need in a["reps_needed"]]
    assert given["reps_needed"].tolist() == expected


def test_a_target_no_team_can_meet_gives_minus_one():
    """A 2-calendar-hour SLA on leads handed off at night: due before anyone starts work."""
    rng = np.random.default_rng(5)
    days = np.arange(60)
    handoff = (days[:, None] * 1440 + rng.uniform(22 * 60, 24 * 60, (60, 20))).ravel()  # 17-19h New York
    sla = simulate.SLA(hours=2.0, clock="calendar")
    window = Window(start=START, days=60)
    a = analytic_load(np.ones(handoff.size), np.sort(handoff), [1.0], capacity=sales(sla=sla), window=window)
    assert a["sla_compliance"].iloc[0] == 0.0
    assert a["reps_needed"].iloc[0] == -1


def test_raising_the_threshold_never_raises_volume_or_utilisation(year_of_handoffs):
    score, handoff = year_of_handoffs
    contact = np.random.default_rng(9).random(score.size)  # per-lead chances: work varies by lead
    thresholds = np.linspace(0.0, 1.0, 23)
    kw = dict(capacity=sales(contact_rate=contact), window=YEAR)
    a = analytic_load(score, handoff, thresholds, **kw)
    assert np.all(np.diff(a["mqls"]) <= 0)
    assert np.all(np.diff(a["utilisation"]) <= 1e-12)
    sim = simulated_load(score, handoff, thresholds[::4], seeds=[0], **kw)
    assert np.all(np.diff(sim["mqls"]) <= 0)
    assert np.all(np.diff(sim["utilisation"]) <= 1e-12)
    assert sim["mqls"].tolist() == a["mqls"].iloc[::4].tolist()


def test_an_overloaded_threshold_is_flagged_and_breaks_the_sla(year_of_handoffs):
    score, handoff = year_of_handoffs
    thresholds = thresholds_for(score, [6000, 25000])
    a = analytic_load(score, handoff, thresholds, capacity=sales(), window=YEAR)
    over = a.iloc[0]  # the lower threshold: 25,000 MQLs a year for four reps
    assert not over["stable"] and over["utilisation"] > 1.5
    assert over["sla_compliance"] < 0.05
    assert a.iloc[1]["stable"] and a.iloc[1]["sla_compliance"] > 0.9
    assert over["median_response_hours"] > 24 * 7  # the backlog grows over the year
    assert over["value_kept"] < a.iloc[1]["value_kept"]


def test_columns_and_per_month():
    rng = np.random.default_rng(4)
    score = rng.integers(0, 10, 3000)
    handoff = np.sort(rng.random(3000)) * 90 * 1440
    a = analytic_load(score, handoff, [5, 2, 5, 20], capacity=sales(), window=Window(start=START, days=90))
    assert tuple(a.columns) == LOAD_COLUMNS
    assert a["threshold"].tolist() == [2.0, 5.0, 20.0]  # sorted, distinct
    assert a["mqls"].tolist() == [int((score >= 2).sum()), int((score >= 5).sum()), 0]
    assert a["mqls_per_month"].iloc[0] == pytest.approx(a["mqls"].iloc[0] / (90 / (365.25 / 12)))
    assert np.isnan(a["sla_compliance"].iloc[2]) and a["reps_needed"].iloc[2] == 0


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------

S = simulate.Scenario()
CAPACITY = SalesCapacity.from_scenario(S)
MONTH = Window(start=START, days=30)
KW = dict(capacity=CAPACITY, window=MONTH)


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        (([1, 2], [0.0], [1]), {}, "handoff_min must have the length of score"),
        (([1], [-1.0], [1]), {}, r"handoff_min must lie in \[0, days \* 1440\)"),
        (([1], [30 * 1440.0], [1]), {}, r"handoff_min must lie in \[0, days \* 1440\)"),
        (([1], [np.nan], [1]), {}, "handoff_min must be finite"),
        (([np.inf], [1.0], [1]), {}, "score must be finite"),
        (([1], [1.0], []), {}, "thresholds must be a non-empty"),
        (([1], [1.0], [np.nan]), {}, "thresholds must be finite"),
        (
            ([1, 2], [1.0, 2.0], [1]),
            {"capacity": CAPACITY.replace(bad_data_share=[0.1, 0.2, 0.3])},
            "bad_data_share must be a scalar or have",
        ),
        (([1], [1.0], [1]), {"reps": [0, 2]}, "reps must be a sequence of team sizes >= 1"),
    ],
)
def test_validation_messages(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        analytic_load(*args, **{**KW, **kwargs})


def test_the_window_and_the_capacity_are_checked_where_they_are_made():
    """Start, days and the contact shares are checked once, by Window and SalesCapacity."""
    with pytest.raises(ValueError, match="Window.days must be an integer >= 1"):
        Window(start=START, days=0)
    with pytest.raises(TypeError, match="Window.start must be a datetime.date"):
        Window(start="2026-01-01", days=30)
    with pytest.raises(ValueError, match=r"SalesCapacity.contact_rate must be a share in \[0, 1\]"):
        CAPACITY.replace(contact_rate=1.5)
    with pytest.raises(TypeError, match="capacity must be a calibrate.capacity.SalesCapacity"):
        analytic_load([1], [1.0], [1], capacity=S.team, window=MONTH)
    with pytest.raises(TypeError, match="window must be a calibrate.capacity.Window"):
        simulated_load([1], [1.0], [1], capacity=CAPACITY, window=(START, 30), seeds=1)
