"""The paired verification: both arms on the same new years (common random numbers), the
uplift with a Student t interval over seeds, and the report's claims against it.

The simulator tests use a small world (800 leads a month, 8 months; one run takes well under
a tenth of a second) and thresholds of the world's own points, so they do not depend on the
scorecard or on ``recommend``.
"""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulate
from calibrate.recommendation import Estimate, Recommendation
from calibrate.verification import (
    FIGURES,
    arm_rows,
    paired_uplift,
    verification_report,
    verify,
    verify_arms,
)
from simulate.table import BEHAVIOUR_COLUMNS, CATEGORICAL_ATTRIBUTES

SEEDS = 16
POPULATION = ["lead_id", "created_at", "source", "campaign", "lead_type", *CATEGORICAL_ATTRIBUTES, "company_size"]


@pytest.fixture(scope="module")
def world():
    s = simulate.Scenario()
    return s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=800.0), months=8)


def _recommendation(rules, *, sla_target=0.9, expected=None, current=None) -> Recommendation:
    return Recommendation(
        rules=rules,
        threshold=float(rules.mql_threshold),
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": sla_target},
        expected=expected or {name: Estimate(1.0) for name in FIGURES},
        current=current,
    )


@pytest.fixture(scope="module")
def arms(world):
    """The world's rules, a slightly higher threshold and one far too high, on 16 new years."""
    rules = {
        "current": world.rules,
        "higher": world.rules.replace_threshold(64),
        "far_too_high": world.rules.replace_threshold(100),
    }
    return verify_arms(world, rules, seeds=SEEDS, seed=1000, workers=2)


def _pair(table: pd.DataFrame, arm: str) -> pd.DataFrame:
    """``arm`` against the current rules, as ``verify`` names them."""
    out = table[table["arm"].isin([arm, "current"])].copy()
    out.loc[out["arm"] == arm, "arm"] = "recommended"
    return out


def test_the_same_seed_gives_the_same_leads_and_behaviour_whatever_the_rules(world):
    a = simulate.run(world, seed=7)
    b = simulate.run(world.replace(rules=world.rules.replace_threshold(100)), seed=7)
    assert a.leads["mql_at"].notna().sum() != b.leads["mql_at"].notna().sum()  # the rules do differ
    pd.testing.assert_frame_equal(a.leads[POPULATION], b.leads[POPULATION])
    pd.testing.assert_frame_equal(a.leads[list(BEHAVIOUR_COLUMNS)], b.leads[list(BEHAVIOUR_COLUMNS)])
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth, b.truth)


def test_one_row_per_seed_and_arm(arms):
    assert list(arms.columns) == ["seed", "arm", *FIGURES]
    assert len(arms) == 3 * SEEDS
    assert (arms.groupby("seed")["arm"].apply(list) == [["current", "higher", "far_too_high"]] * SEEDS).all()


def test_paired_differences_vary_less_than_unpaired_ones(arms):
    """Common random numbers: on the same seed the two arms share the leads, their behaviour
    and the reps' calendars, so the paired difference varies less than the difference of the
    arms on different years (the current arm shifted by one seed: the same runs, unpaired).

    Without pairing both samples of differences have the same variance and the ratio of their
    sample variances is about F(n - 1, n - 1) (the two samples share their values, which only
    narrows the ratio's spread); a ratio below its 1% quantile rejects that at 1%."""
    pair = _pair(arms, "higher")
    a, b = arm_rows(pair), arm_rows(pair, "current")
    critical = stats.f.ppf(0.01, SEEDS - 1, SEEDS - 1)
    for name in ("mqls_per_month", "sla_compliance"):
        x, y = a[name].to_numpy(), b[name].to_numpy()
        ratio = np.var(x - y, ddof=1) / np.var(x - np.roll(y, 1), ddof=1)
        assert ratio < critical, f"{name}: variance ratio {ratio:.3f} not below {critical:.3f}"


def test_identical_rules_give_an_uplift_of_exactly_zero(world):
    rec = _recommendation(world.rules.replace_threshold(world.rules.mql_threshold))
    checked = verify(rec, world, seeds=3, seed=5)
    assert set(checked["arm"]) == {"recommended", "current"}
    up = paired_uplift(checked)
    assert list(up["figure"]) == ["mqls_per_month", "sla_compliance", "wins_per_month", "revenue_per_month"]
    assert (up["uplift"] == 0).all() and (up["low"] == 0).all() and (up["high"] == 0).all()
    assert (up["seeds"] == 3).all()


def test_a_threshold_far_too_high_loses_wins_and_revenue(arms):
    up = paired_uplift(_pair(arms, "far_too_high")).set_index("figure")
    for name in ("mqls_per_month", "wins_per_month", "revenue_per_month"):
        assert up.loc[name, "high"] < 0, up.loc[name].to_dict()


def test_the_interval_is_students_t_over_the_paired_seeds():
    rng = np.random.default_rng(3)
    x, y = rng.normal(10, 2, 12), rng.normal(9, 2, 12)
    table = pd.DataFrame(
        {
            "seed": np.tile(np.arange(12), 2),
            "arm": ["recommended"] * 12 + ["current"] * 12,
            "wins_per_month": np.r_[x, y],
        }
    )
    up = paired_uplift(table, confidence=0.9).set_index("figure").loc["wins_per_month"]
    ci = stats.ttest_rel(x, y).confidence_interval(0.9)
    assert up["uplift"] == pytest.approx((x - y).mean())
    assert (up["low"], up["high"]) == pytest.approx((ci.low, ci.high))
    assert up["recommended"] == pytest.approx(x.mean()) and up["current"] == pytest.approx(y.mean())


def _synthetic(sla_rec, sla_cur, wins_rec, wins_cur) -> pd.DataFrame:
    n = len(sla_rec)
    return pd.DataFrame(
        {
            "seed": np.tile(np.arange(n), 2),
            "arm": ["recommended"] * n + ["current"] * n,
            "mqls_per_month": 100.0,
            "sla_compliance": np.r_[sla_rec, sla_cur],
            "utilisation": 0.5,
            "wins_per_month": np.r_[wins_rec, wins_cur],
            "revenue_per_month": 1000 * np.r_[wins_rec, wins_cur],
        }
    )


def test_the_report_sets_the_claimed_uplift_beside_the_verified_one(world):
    expected = {
        "sla_compliance": Estimate(0.93, 0.91, 0.95),
        "wins_per_month": Estimate(12.0, 11.0, 13.0),
        "revenue_per_month": Estimate(12_000.0),
    }
    current = {
        "sla_compliance": Estimate(0.80),
        "wins_per_month": Estimate(9.0),
        "revenue_per_month": Estimate(11_900.0),
    }
    rec = _recommendation(world.rules, expected=expected, current=current)
    wins_rec, wins_cur = np.array([10.0, 12.0, 11.0, 13.0]), np.array([10.5, 11.5, 11.0, 12.5])
    table = _synthetic([0.95, 0.92, 0.88, 0.94], [0.80, 0.79, 0.70, 0.81], wins_rec, wins_cur)
    report = verification_report(rec, table).set_index("figure")
    assert report.loc["wins_per_month", "expected_uplift"] == pytest.approx(3.0)
    assert report.loc["wins_per_month", "verified_uplift"] == pytest.approx((wins_rec - wins_cur).mean())
    assert not report.loc["wins_per_month", "uplift_within"]  # a claim of +3 outside [-0.64, 0.89]
    assert report.loc["revenue_per_month", "uplift_within"]  # a claim of +100 inside [-637, 887]
    assert report.loc["sla_compliance", "uplift_low"] > 0
    assert report.attrs["gain_in_sla_only"] is True
    assert report.attrs["years_meeting_sla"] == pytest.approx(0.75)  # 0.88 misses 0.9
    assert report.attrs["meets_sla"] is True
    assert report.attrs["uplift"] is not None and report.attrs["seeds"] == 4

    gains = _synthetic([0.95, 0.92, 0.93, 0.94], [0.80, 0.79, 0.70, 0.81], wins_rec + 3, wins_cur)
    assert verification_report(rec, gains).attrs["gain_in_sla_only"] is False
    no_current = verification_report(dataclasses.replace(rec, current=None), table).set_index("figure")
    assert no_current["expected_uplift"].isna().all()


def test_the_recommended_arm_alone_and_old_tables_still_work(world):
    rec = _recommendation(world.rules.replace_threshold(64))
    alone = verify(rec, world, current_rules=False, seeds=[11, 12])
    assert list(alone["arm"]) == ["recommended"] * 2 and list(alone["seed"]) == [11, 12]
    report = verification_report(rec, alone)
    assert "verified_uplift" not in report and report.attrs["gain_in_sla_only"] is None
    with pytest.raises(ValueError, match="both arms"):
        paired_uplift(alone)
    old = alone.drop(columns="arm")  # what verify returned before the current arm
    pd.testing.assert_frame_equal(arm_rows(old), old)
    assert verification_report(rec, old).attrs["years_meeting_sla"] == report.attrs["years_meeting_sla"]
    # the same seeds give the same recommended rows with or without the current arm, on any
    # number of workers
    both = verify(rec, world, seeds=[11, 12], workers=2)
    pd.testing.assert_frame_equal(arm_rows(both), alone)


def test_the_current_arm_defaults_to_the_rules_the_recommendation_was_compared_with(world):
    if "current_rules" not in {f.name for f in dataclasses.fields(Recommendation)}:
        pytest.skip("this Recommendation does not keep the rules it was compared with")
    rec = dataclasses.replace(
        _recommendation(world.rules.replace_threshold(64)), current_rules=world.rules.replace_threshold(64)
    )
    up = paired_uplift(verify(rec, world, seeds=2, seed=9)).set_index("figure")
    assert (up["uplift"] == 0).all()  # the recommendation's own baseline, not the world's rules
