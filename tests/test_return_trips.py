"""Return trips from nurture (``calibrate.return_trips``): which thresholds bring a recycled
lead back, checked against a direct search and against the simulator's own comeback rule."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import load_history
from calibrate.inputs import prepare
from calibrate.point_in_time import peak_scores
from calibrate.return_trips import history_return_trips, reached_on_return, return_ceilings
from simulate.funnel import NURTURE_REASONS
from simulate.rules import default_rules

MINUTE_NS = 60_000_000_000


def _direct_ceiling(at: np.ndarray, points: np.ndarray, nurture_ns: int) -> tuple[float, float]:
    """The slow way: for every level ``T`` the lead's score takes, it is an MQL of ``T`` when
    its score first reaches ``T`` and comes back at its first step at least the nurture
    period later whose score meets ``T``; the ceiling is the highest such ``T``."""
    best, moment = -np.inf, np.nan
    for level in np.unique(points):
        reach = at[np.flatnonzero(points >= level)[0]]
        back = np.flatnonzero((at >= reach + nurture_ns) & (points >= level))
        if back.size and level > best:
            best, moment = float(level), float(at[back[0]])
    return best, moment


def _random_paths(rng: np.random.Generator, n: int):
    steps = rng.integers(1, 9, n)
    row = np.repeat(np.arange(n), steps)
    gaps = rng.integers(0, 40, row.size) * 1440 + rng.integers(0, 3, row.size)  # whole minutes, some ties
    at = np.zeros(row.size, dtype=np.int64)
    for lead in range(n):
        on = row == lead
        at[on] = (rng.integers(0, 10_000) + np.cumsum(gaps[on])) * MINUTE_NS
    # scores go up and down (negative points, decay), and repeat levels
    points = rng.integers(-5, 12, row.size).astype(float) * 5
    return row, at, points


@pytest.mark.parametrize("case", range(20))
def test_ceilings_agree_with_a_direct_search(case):
    rng = np.random.default_rng(case)
    n = 40
    row, at, points = _random_paths(rng, n)
    nurture = int(rng.choice([0, 1, 30, 60])) * 1440 * MINUTE_NS
    ceiling, moment = return_ceilings(row, at, points, n, nurture)
    for lead in range(n):
        on = row == lead
        want, when = _direct_ceiling(at[on], points[on], nurture)
        assert ceiling[lead] == want, (case, lead)
        got = moment[lead].astype("int64") if not np.isnat(moment[lead]) else np.nan
        assert (np.isnan(when) and np.isnan(got)) or got == when, (case, lead)


def test_a_lead_without_a_later_step_never_comes_back_and_order_is_checked():
    row = np.array([0, 1, 1])
    at = np.array([0, 0, 5 * MINUTE_NS])
    ceiling, moment = return_ceilings(row, at, np.array([90.0, 10.0, 90.0]), 3, 10 * MINUTE_NS)
    assert np.isneginf(ceiling).all()  # lead 2 has no steps at all
    assert np.isnat(moment).all()
    with pytest.raises(ValueError, match="lead and time order"):
        return_ceilings(np.array([0, 0]), np.array([5, 0]) * MINUTE_NS, np.array([1.0, 2.0]), 1, 0)


@pytest.fixture(scope="module")
def undecayed():
    """The default points without decay (the fitted points have none), a history under a
    threshold of 60, and every lead's score path up to the as-of date."""
    rules = dataclasses.replace(default_rules(), decay_half_life_days=None)
    world = simulate.Scenario(months=8, rules=rules.replace_threshold(60.0))
    history = load_history(simulate.run(world, seed=3))
    leads = history.leads.reset_index(drop=True)
    until = pd.Series(history.as_of, index=leads.index)
    peak, _, _, path = peak_scores(rules.score, list(rules.columns), leads, history.events, until)
    return rules, world, leads, peak, path


def test_every_return_of_the_history_happens_under_its_rules(undecayed):
    rules, world, leads, peak, path = undecayed
    trips = history_return_trips(leads, path, peak, np.ones(len(leads)), None, "won")
    back = leads["returned_at"].notna().to_numpy()
    assert back.sum() > 100
    assert set(trips.index[trips.happened]) == set(np.flatnonzero(back))
    assert (trips.ceiling[trips.happened] >= world.rules.mql_threshold).all()
    # the history's nurtured MQLs that did not come back are candidates under other thresholds
    nurtured = leads["recycled_reason"].isin(NURTURE_REASONS).to_numpy() & leads["mql_at"].notna().to_numpy()
    assert set(trips.index[~trips.happened]) <= set(np.flatnonzero(nurtured & ~back))
    # nothing valued without outcomes
    assert (trips.won == 0).all()


@pytest.mark.parametrize("threshold", [65.0, 80.0])
def test_the_ceiling_says_who_comes_back_under_another_threshold(undecayed, threshold):
    """Run the same leads (same seed) under another threshold: of the leads it recycles to
    nurture, those that come back are those whose ceiling reaches it. Every one that comes
    back is predicted; a predicted one may stay away only where sales recycled it after its
    comeback moment, or the simulator dropped an unsettled return (under 1%, its docstring)."""
    rules, world, leads, peak, path = undecayed
    nurture_ns = int(world.funnel.nurture_days * 1440) * MINUTE_NS
    ceiling, _ = return_ceilings(path.row, path.at_ns, path.points, path.n, nurture_ns)
    other = simulate.run(world.replace(rules=rules.replace_threshold(threshold)), seed=3).leads
    other = other.reset_index(drop=True)
    assert (other["lead_id"].to_numpy() == leads["lead_id"].to_numpy()).all()
    came = other["returned_at"].notna().to_numpy()
    nurtured = other["recycled_reason"].isin(NURTURE_REASONS).to_numpy() | came
    predicted = ceiling >= threshold
    assert nurtured.sum() > 1000
    assert not (came & ~predicted).any()
    assert (predicted & ~came & nurtured).sum() <= 0.01 * nurtured.sum()


def test_a_win_counts_on_the_return_only_after_it():
    day = pd.Timestamp("2026-01-01", tz="UTC")
    leads = pd.DataFrame(
        {
            "created_at": [day] * 4,
            "mql_at": [day] * 4,
            "returned_at": [
                day + pd.Timedelta(days=70),
                day + pd.Timedelta(days=70),
                pd.NaT,
                day + pd.Timedelta(days=70),
            ],
            "customer_at": [
                day + pd.Timedelta(days=90),
                day + pd.Timedelta(days=20),
                day + pd.Timedelta(days=20),
                pd.NaT,
            ],
            "won": [True, True, True, False],
        }
    )
    assert reached_on_return(leads).tolist() == [True, False, False, False]
    assert not reached_on_return(leads.drop(columns="returned_at")).any()


def test_following_the_score_to_the_first_touch_keeps_every_trip_back(undecayed):
    """With ``score_until="first_touch"`` the score is followed to the first touch, but a
    trip back happens after it: the candidates and their ceilings are those of the path to
    the as-of date (a reference: the same points followed to the as-of date)."""
    _, _, leads, _, _ = undecayed
    history = load_history(simulate.run(undecayed[1], seed=3))
    to_as_of = prepare(history, random_state=0, cross_fit=1)
    to_touch = prepare(history, scorecard=to_as_of.scorecard, random_state=0, cross_fit=1, score_until="first_touch")
    assert (~to_as_of.returns_happened).sum() > 100  # nurtured leads that never came back
    np.testing.assert_array_equal(to_touch.returns_index, to_as_of.returns_index)
    np.testing.assert_array_equal(to_touch.returns_score, to_as_of.returns_score)
    np.testing.assert_array_equal(to_touch.returns_happened, to_as_of.returns_happened)
