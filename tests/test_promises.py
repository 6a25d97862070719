"""The recommendation's promises against the simulator's truth: new years, same seeds.

A year of a smaller default world whose three reps cannot serve every MQL of the rules in
force: the recommendation must trade volume for the SLA. Its claims are checked against new simulated years in which the
recommended and the current rules meet the same leads (common random numbers). Tolerances are
the claims' and the verification's own standard errors, and binomial bounds for shares of years.
"""

import dataclasses
import warnings

import numpy as np
import pytest
from scipy import stats

import calibrate
import simulate
from calibrate.labels import SelectionBiasWarning
from calibrate.verification import arm_rows, paired_uplift

SEEDS = 12


@pytest.fixture(scope="module")
def world():
    s = simulate.Scenario()
    return s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=2400.0),
        team=dataclasses.replace(s.team, reps=3),
    )


@pytest.fixture(scope="module")
def rec(world):
    history = calibrate.History.from_run(simulate.run(world, seed=7))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        rec = calibrate.recommend(
            history, calibrate.SalesCapacity.from_scenario(world), current_rules=world.rules, seed=0, bootstrap=100
        )
    return rec.with_verification(calibrate.verify(rec, world, seeds=SEEDS, seed=2000))


def test_the_claimed_uplift_agrees_with_the_paired_verified_one(rec):
    verified = paired_uplift(rec.verification).set_index("figure")
    for name in ("wins_per_month", "revenue_per_month"):
        claim = rec.uplift[name]
        se_claim = (claim.high - claim.low) / (2 * stats.norm.ppf(0.975))
        v = verified.loc[name]
        se_verified = (v["high"] - v["low"]) / (2 * stats.t.ppf(0.975, v["seeds"] - 1))
        # two estimates of one difference: apart by less than 3 standard errors of their gap
        assert abs(claim.value - v["uplift"]) < 3 * np.hypot(se_claim, se_verified), name
    # volume is no estimate from outcomes: the same leads pass the same points
    assert rec.uplift["mqls_per_month"].value == pytest.approx(verified.loc["mqls_per_month", "uplift"], rel=0.05)


def test_the_sla_is_met_in_the_stated_share_of_new_years(rec, world):
    years = arm_rows(rec.verification)
    met = int((years["sla_compliance"] >= world.sla.target).sum())
    confidence = rec.constraints["sla_confidence"]
    # at least `confidence` of years: fewer than this many would reject it at 1%
    assert met >= stats.binom.ppf(0.01, SEEDS, confidence), met
    current = arm_rows(rec.verification, "current")
    assert (current["sla_compliance"] < world.sla.target).all()  # the rules in force miss it


def test_new_years_fall_in_the_range_of_a_new_year(rec):
    years = arm_rows(rec.verification)
    for name in ("mqls_per_month", "wins_per_month"):
        e = rec.expected[name]
        inside = int(((years[name] >= e.year_low) & (years[name] <= e.year_high)).sum())
        # a 90% range: fewer inside than this would reject its coverage at 1%
        assert inside >= stats.binom.ppf(0.01, SEEDS, 0.9), (name, inside)


def test_the_rules_in_force_are_simulated_at_their_own_mql_moments(world):
    """The current rules' simulated check hands their MQLs over when those rules made them
    MQLs (the history's ``mql_at``), whatever moments the candidates' inputs carry: the same
    seeds on the history's own moments give the same figures."""
    from calibrate.baseline import current_baseline
    from calibrate.inputs import prepare
    from calibrate.sla import simulated_load
    from calibrate.tradeoffs import evaluate_tradeoffs

    small = world.replace(months=3)
    history = calibrate.History.from_run(simulate.run(small, seed=11))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)
        inputs = prepare(history, cross_fit=1, horizon_days=30)
    window = inputs.window
    # candidates handed over ten hours after the current rules' moments
    later = dataclasses.replace(inputs, handoff_min=np.clip(inputs.handoff_min + 600.0, 0, window.end_minutes - 1))
    capacity = calibrate.SalesCapacity.from_scenario(small)
    trade = evaluate_tradeoffs(
        later.score, later.p_win, later.handoff_min, capacity=capacity, window=window, bootstrap=0
    )
    base = current_baseline(
        history, later, small.rules, trade, credit_unworked=False, simulate_seeds=3, seed=5, untrusted=True
    )
    leads = history.leads
    mql = leads["mql_at"].notna().to_numpy()
    own = np.clip(window.minutes(leads["mql_at"]), 0, window.end_minutes - 1)
    own = np.where(mql, own, later.handoff_min)  # the others are no load (their draws follow the order)
    # its trips back are the ones the history made, not those another threshold would bring
    made = mql[inputs.returns_index] & inputs.returns_happened
    load = np.concatenate([mql, made]).astype(float)
    trips = np.concatenate([own, inputs.returns_handoff_min])
    reference = simulated_load(load, trips, [1.0], capacity=capacity, window=window, seeds=3, seed=5)
    for name in ("sla_compliance", "median_response_hours", "value_kept"):
        assert base.row[f"sim_{name}"] == pytest.approx(reference[name].mean(), rel=1e-9), name
