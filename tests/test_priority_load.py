"""Tests for the analytic load of a queue called in order of score (``calibrate.sla.priority_load``).

Against the queue engine (the simulator's truth) on cells of ``bench/bench_priority_load.py``:
SLA compliance within ``3 se + WITHIN`` and the value kept weighted by the chance to win
within ``3 se + VALUE_TOL`` (``se`` the standard error of the simulated mean over seeds),
where the FIFO model's figure is further off than that (so the test fails without the
priority model). Then the model's own structure: weights that do not tell leads apart give
the plain value kept, one score level is FIFO, compliance never below FIFO's, and the
trade-off table's wins follow the weighted value kept.
"""

import dataclasses
import datetime

import numpy as np
import pytest

import simulate
from calibrate._testing import profiled_handoffs
from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import analytic_load, simulated_load
from calibrate.sla.validity import WITHIN
from calibrate.tradeoffs import evaluate_tradeoffs

START = datetime.date(2026, 1, 5)  # a Monday
DAYS = 56
WINDOW = Window(start=START, days=DAYS)
VALUE_TOL = 0.015  # the benchmark's largest trusted gap in the weighted value kept
SEEDS = 6


def capacity(routing="pooled", reps=4, discipline="highest_score", **sla) -> SalesCapacity:
    base = SalesCapacity.from_scenario(simulate.Scenario())
    team = dataclasses.replace(base.team, reps=reps, routing=routing, discipline=discipline)
    return base.replace(team=team, sla=dataclasses.replace(base.sla, **sla))


def leads(cap, loads, seed=0):
    """Uniform scores, profiled handoffs, a chance rising with the score, and thresholds at
    about ``loads`` utilisation."""
    rng = np.random.default_rng(seed)
    probe = profiled_handoffs(2000, rng, start=START, days=DAYS)
    u0 = analytic_load(np.ones(probe.size), probe, [1.0], capacity=cap, window=WINDOW)["utilisation"].iloc[0]
    n = int(probe.size / u0 * 1.05)
    handoff = profiled_handoffs(n, rng, start=START, days=DAYS)
    score = rng.random(n)
    util = analytic_load(np.ones(n), handoff, [1.0], capacity=cap, window=WINDOW)["utilisation"].iloc[0]
    return score, handoff, 0.02 + 0.4 * score**3, np.quantile(score, 1.0 - np.asarray(loads) / util)


@pytest.mark.parametrize("routing", ["pooled", "round_robin"])
def test_score_order_matches_the_engine_where_fifo_does_not(routing):
    cap = capacity(routing)
    score, handoff, p, thresholds = leads(cap, [0.6, 0.75])
    kw = dict(capacity=cap, window=WINDOW, weights={"wins": p})
    model = analytic_load(score, handoff, thresholds, **kw)
    sim = simulated_load(score, handoff, thresholds, seeds=SEEDS, seed=1, **kw).groupby("threshold")
    mean, se3 = sim.mean(), 3.0 * sim.std(ddof=1) / np.sqrt(SEEDS)
    value_gap = np.abs(model["value_kept_wins"].to_numpy() - mean["value_kept_wins"].to_numpy())
    assert (value_gap <= se3["value_kept_wins"].to_numpy() + VALUE_TOL).all(), value_gap
    sla_gap = np.abs(model["sla_compliance"].to_numpy() - mean["sla_compliance"].to_numpy())
    assert (sla_gap <= se3["sla_compliance"].to_numpy() + WITHIN).all(), sla_gap
    # the FIFO model, blind to the order, misses the likely winners' head start (at 75%)
    fifo = analytic_load(score, handoff, thresholds, capacity=capacity(routing, discipline="fifo"), window=WINDOW)
    fifo_gap = mean["value_kept_wins"].to_numpy() - fifo["value_kept"].to_numpy()
    assert fifo_gap[0] > se3["value_kept_wins"].iloc[0] + VALUE_TOL, fifo_gap


def test_weights_that_do_not_tell_leads_apart_give_the_plain_value_kept():
    cap = capacity()
    score, handoff, p, thresholds = leads(cap, [0.5, 0.8])
    table = analytic_load(
        score, handoff, thresholds, capacity=cap, window=WINDOW, weights={"one": np.full(score.size, 3.0), "wins": p}
    )
    np.testing.assert_allclose(table["value_kept_one"], table["value_kept"], rtol=1e-12)
    # the likely winners are called first: they keep more than the average MQL
    assert (table["value_kept_wins"] > table["value_kept"]).all()
    # the FIFO model does not tell them apart
    fifo = analytic_load(
        score, handoff, thresholds, capacity=capacity(discipline="fifo"), window=WINDOW, weights={"wins": p}
    )
    np.testing.assert_array_equal(fifo["value_kept_wins"], fifo["value_kept"])


def test_one_score_level_is_first_in_first_out():
    cap = capacity()
    _, handoff, _, _ = leads(cap, [0.6])
    same = np.ones(handoff.size)
    prio = analytic_load(same, handoff, [1.0], capacity=cap, window=WINDOW)
    fifo = analytic_load(same, handoff, [1.0], capacity=capacity(discipline="fifo"), window=WINDOW)
    for column in ("sla_compliance", "value_kept", "utilisation", "median_response_hours"):
        np.testing.assert_allclose(prio[column], fifo[column], rtol=1e-12)


def test_compliance_is_never_below_fifo_and_equal_below_capacity():
    cap = capacity()
    score, handoff, _, _ = leads(cap, [0.5])
    thresholds = np.quantile(score, np.linspace(0.0, 0.9, 19))
    prio = analytic_load(score, handoff, thresholds, capacity=cap, window=WINDOW)
    fifo = analytic_load(score, handoff, thresholds, capacity=capacity(discipline="fifo"), window=WINDOW)
    assert (prio["sla_compliance"].to_numpy() >= fifo["sla_compliance"].to_numpy() - 1e-12).all()
    calm = fifo["utilisation"].to_numpy() < 0.5
    np.testing.assert_allclose(prio["sla_compliance"][calm], fifo["sla_compliance"][calm], atol=1e-9)
    # past capacity the better leads keep the SLA that FIFO loses for everyone
    assert prio["sla_compliance"].iloc[0] > fifo["sla_compliance"].iloc[0] + 0.1
    np.testing.assert_array_equal(prio["mqls"], fifo["mqls"])


def test_the_trade_off_table_credits_score_order_with_the_likely_winners():
    score, handoff, p, thresholds = leads(capacity(), [0.8, 0.6])
    kw = dict(window=WINDOW, thresholds=thresholds, bootstrap=0)
    prio = evaluate_tradeoffs(score, p, handoff, capacity=capacity(), **kw).table
    fifo = evaluate_tradeoffs(score, p, handoff, capacity=capacity(discipline="fifo"), **kw).table
    assert (prio["wins_per_month"] > fifo["wins_per_month"]).all()
    expected = (score[None, :] >= thresholds[:, None]) @ p * prio["value_kept_wins"].to_numpy() / WINDOW.months
    np.testing.assert_allclose(prio["wins_per_month"], expected, rtol=1e-9)
    # a simulated check brings the engine's own weighted value kept
    checked = evaluate_tradeoffs(score, p, handoff, capacity=capacity(), simulate_seeds=2, **kw).table
    assert np.isfinite(checked["sim_value_kept_wins"]).all()
    assert (checked["sim_value_kept_wins"] > checked["sim_value_kept"]).all()


def test_realised_outcomes_are_valued_at_the_value_kept_their_chances_weigh():
    # the rules in force are valued on the history's own outcomes, which carry each lead's
    # own wait (the winners cluster where the queue was short): the chances weigh the value
    # kept, or the simulated check would count the history's waits a second time
    cap = capacity(discipline="fifo")
    score, handoff, p, thresholds = leads(cap, [0.9])
    y = (np.random.default_rng(5).random(score.size) < p).astype(float)
    kw = dict(capacity=cap, window=WINDOW, thresholds=thresholds, bootstrap=0, simulate_seeds=2)
    by_chance = evaluate_tradeoffs(score, p, handoff, **kw).table
    valued = evaluate_tradeoffs(score, y, handoff, kept_weight=p, **kw).table
    np.testing.assert_allclose(valued["sim_value_kept_wins"], by_chance["sim_value_kept_wins"], rtol=1e-12)
    mql = score[None, :] >= thresholds[:, None]
    expected = mql @ y * valued["value_kept_wins"].to_numpy() / WINDOW.months
    np.testing.assert_allclose(valued["wins_per_month"], expected, rtol=1e-9)
    # weighed by the outcomes themselves, the value kept is another one
    by_outcome = evaluate_tradeoffs(score, y, handoff, **kw).table
    assert (by_outcome["sim_value_kept_wins"] != valued["sim_value_kept_wins"]).all()


@pytest.mark.parametrize(
    "weights, message",
    [
        ({"wins": [0.1, 0.2]}, r"weights\['wins'\] must have the length of score"),
        ({"wins": "x"}, r"weights\['wins'\] must be numeric"),
        ({"bad name": None}, "names must be identifiers"),
        ([1, 2], "weights must map names to arrays"),
    ],
)
def test_bad_weights_get_one_clear_error(weights, message):
    score = np.array([0.2, 0.5, 0.9])
    handoff = np.array([600.0, 700.0, 800.0])
    with pytest.raises((ValueError, TypeError), match=message):
        analytic_load(score, handoff, [0.5], capacity=capacity(), window=WINDOW, weights=weights)


def test_a_negative_weight_names_its_row():
    score = np.array([0.2, 0.5, 0.9])
    handoff = np.array([600.0, 700.0, 800.0])
    with pytest.raises(ValueError, match=r"weights\['wins'\] must be finite and >= 0 \(row 1: -0.5\)"):
        simulated_load(
            score, handoff, [0.5], capacity=capacity(), window=WINDOW, seeds=1, weights={"wins": [0.1, -0.5, 0.2]}
        )
