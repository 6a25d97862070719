"""``calibrate.monitor``: drift, honesty, volume, SLA risk and the answer, against
independent references (the PSI by hand, a stationary world, the team's own size)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate.known_at import known_at
from calibrate.monitor_forecast import PlannedCampaign, forecast_mqls
from calibrate.monitor_reference import auc_interval, distribution, psi
from calibrate.monitoring import monitor
from calibrate.recommendation import Recommendation, RecommendationError


def test_psi_matches_the_formula_by_hand():
    ref = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    dist = distribution(ref, n_bins=2)  # one edge, at the median 5.5
    assert dist["edges"] == [5.5] and dist["shares"] == [0.5, 0.5] and dist["missing"] == 0.0
    new = pd.Series([1.0, 2, 3, 9, np.nan])  # 3 below, 1 above, 1 missing
    value, table = psi(dist, new)
    e, a = np.array([0.5, 0.5, 1e-4]), np.array([0.6, 0.2, 0.2])
    assert value == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert list(table["bin"]) == ["<5.5", ">=5.5", "(missing)"]


def test_psi_of_categories_counts_a_new_category_apart():
    dist = distribution(pd.Series(["a", "a", "b", "b"]))
    value, table = psi(dist, pd.Series(["a", "c"]))
    e, a = np.array([0.5, 0.5, 1e-4]), np.array([0.5, 1e-4, 0.5])
    assert value == pytest.approx(np.sum((a - e) * np.log(a / e)))
    assert "(other)" in set(table["bin"])


def test_auc_interval_is_hanley_mcneil():
    low, high = auc_interval(0.75, 50, 50)
    q1, q2 = 0.75 / 1.25, 2 * 0.75**2 / 1.75
    se = np.sqrt((0.75 * 0.25 + 49 * (q1 - 0.75**2) + 49 * (q2 - 0.75**2)) / 2500)
    assert (low, high) == pytest.approx((0.75 - 1.959964 * se, 0.75 + 1.959964 * se), abs=1e-6)


def test_forecast_carries_the_level_and_adds_planned_campaigns():
    # last year: 10 MQLs a day every month; the three new months: 12 a day
    days = [pd.Period(f"2026-{m:02d}", freq="M").days_in_month for m in range(1, 13)]
    reference = {"months": [f"2026-{m:02d}" for m in range(1, 13)], "mqls": [10 * d for d in days]}
    reference["campaign_mqls"] = [0] * 12
    months = pd.PeriodIndex(["2027-01", "2027-02", "2027-03"], freq="M")
    observed = pd.DataFrame({"month": months, "mqls": [12 * m.days_in_month for m in months], "campaign_mqls": 0})
    f = forecast_mqls(reference, observed, campaigns=[PlannedCampaign(name="x", extra_leads=1000, mql_share=0.1)])
    assert f.month == "2027-04"
    assert f.level == pytest.approx(1.2)
    assert f.campaign_mqls == pytest.approx(100)
    assert f.mqls == pytest.approx(12 * 30 + 100)
    # the interval is at least a Poisson month's
    assert f.high - f.mqls >= 1.64 * np.sqrt(f.mqls)


@pytest.fixture(scope="module")
def world():
    """Eight months of a smaller world without campaigns; a config from its first five."""
    s = simulate.Scenario(timezone="UTC")
    s = s.replace(months=8, arrivals=dataclasses.replace(s.arrivals, campaigns=(), leads_per_month=1500.0))
    result = simulate.run(s, seed=3)
    train = known_at(result, "2026-06-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = simulate_free_recommend(train, s)
    return result, rec


def simulate_free_recommend(train, scenario):
    from calibrate.capacity import SalesCapacity
    from calibrate.threshold import recommend

    capacity = SalesCapacity.from_scenario(scenario).with_reps(2)
    return recommend(train, capacity, world=None, simulate_seeds=0, bootstrap=20, horizon_days=60, seed=0)


def test_config_round_trip_keeps_the_reference(world, tmp_path):
    _, rec = world
    path = tmp_path / "config.json"
    rec.to_json(path)
    back = Recommendation.from_json(path)
    assert back.monitor_reference["volume"] == rec.monitor_reference["volume"]
    assert set(back.monitor_reference["features"]) >= set(rec.rules.columns)


def test_a_stationary_world_keeps_the_threshold(world):
    result, rec = world
    report = monitor(rec, known_at(result, "2026-08-01"), seed=0)
    assert report.month == "2026-07"
    assert report.decision == "keep", report.summary()
    score = report.drift.set_index("column").loc["score", "psi"]
    assert score < 0.1
    assert max(len(line) for line in report.summary().splitlines()) <= 80
    assert report.to_dict()["decision"] == "keep"


def test_a_rep_leaving_raises_the_sla_risk(world):
    result, rec = world
    report = monitor(rec, known_at(result, "2026-08-01"), team_change=-1, seed=0)
    assert report.planned_risk.reps == report.risk.reps - 1
    assert report.planned_risk.chance_of_breach > report.risk.chance_of_breach
    assert report.planned_risk.breaking_mqls < report.risk.breaking_mqls


def test_a_missing_column_is_named(world):
    result, rec = world
    history = known_at(result, "2026-08-01")
    column = next(c for c in rec.rules.columns if c in history.leads)
    broken = dataclasses.replace(history, leads=history.leads.drop(columns=[column]))
    with pytest.raises(ValueError, match=f"lacks column '{column}'"):
        monitor(rec, broken)


def test_a_config_without_reference_is_refused(world):
    result, rec = world
    with pytest.raises(RecommendationError, match="monitor_reference"):
        monitor(dataclasses.replace(rec, monitor_reference=None), known_at(result, "2026-08-01"))


def test_the_command_line_prints_writes_and_refuses_to_overwrite(world, tmp_path, capsys):
    from calibrate.__main__ import main

    result, rec = world
    config = tmp_path / "config.json"
    rec.to_json(config)
    new = known_at(result, "2026-08-01")
    new.leads.to_csv(tmp_path / "new.csv", index=False)
    new.events.to_csv(tmp_path / "events.csv", index=False)
    out = tmp_path / "report.json"
    args = [str(config), str(tmp_path / "new.csv"), "--events", str(tmp_path / "events.csv"), "--out", str(out)]
    args += ["--as-of", "2026-08-01T00:00:00+00:00"]
    code = main(["monitor", *args, "--team-change", "-1"])
    printed = capsys.readouterr().out
    assert code in (0, 1) and "Monitor of 2026-07" in printed
    import json

    written = json.loads(out.read_text())
    assert written["decision"] in ("keep", "re-tune") and written["sla_risk"]["planned"]["reps"] >= 1
    before = out.read_text()
    assert main(["monitor", *args]) == 2
    assert "exists" in capsys.readouterr().err and out.read_text() == before
    assert main(["monitor", str(config), str(config), "--out", str(config), "--overwrite"]) == 2
    assert "replace your input" in capsys.readouterr().err


def test_known_at_holds_nothing_after_its_moment(world):
    result, _ = world
    at = pd.Timestamp("2026-04-01", tz="UTC")
    history = known_at(result, at)
    assert history.as_of == at and (history.events["at"] < at).all()
    for column in ("mql_at", "first_touch_at", "customer_at", "closed_at"):
        assert not (history.leads[column] >= at).any()
    # counts are the events' up to the moment
    ids = history.leads["lead_id"].to_numpy()[:50]
    kept = history.events[history.events["lead_id"].isin(ids)]
    assert history.leads["page_views"].to_numpy()[:50].sum() == (kept["kind"].astype(str) == "page_view").sum()


def test_with_fewer_reps_the_retuned_threshold_serves_the_sla_better(world):
    result, rec = world
    report = monitor(rec, known_at(result, "2026-08-01"), team_change=-1, seed=0)
    table = report.retune.table.set_index("figure")
    assert report.retune.threshold >= report.threshold or not report.retune.feasible
    assert table.loc["SLA met", "retuned"] >= table.loc["SLA met", "current"] - 1e-9
