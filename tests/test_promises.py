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
