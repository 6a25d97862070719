"""Learning below the old threshold: the experiment, its weights, the envelope and the plan."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

import calibrate
import simulate
from calibrate.exploration import exploration_plan, half_width, old_threshold
from calibrate.inputs import LeadInputs
from calibrate.tradeoffs import evaluate_tradeoffs
from simulate.exploration import ExplorationRule, run_with_exploration, scores_at_age
from simulate.scoring import score_stream

RULE = ExplorationRule(edges=[-np.inf, 25, 45], shares=[0.03, 0.1], decide_after_days=5)


@pytest.fixture(scope="module")
def world():
    return simulate.Scenario(months=5)


@pytest.fixture(scope="module")
def runs(world):
    return simulate.run(world, seed=4), run_with_exploration(world, RULE, seed=4)


def test_the_experiment_runs_in_the_same_world(runs):
    plain, explored = runs
    a, b = plain.leads, explored.leads
    assert (a["created_at"] == b["created_at"]).all() and (a["score"] == b["score"]).all()
    assert plain.truth.equals(explored.truth)
    picked = b["explored"].to_numpy()
    assert picked.sum() > 100
    # an explored lead was no MQL when drawn, and is handed over at created + 5 days
    assert b.loc[picked, "mql_at"].isna().all()
    delay = (b.loc[picked, "explored_at"] - b.loc[picked, "created_at"]).dt.total_seconds() / 86400
    assert np.allclose(delay, 5.0, atol=1e-6)
    assert b.loc[picked, "first_touch_at"].notna().mean() > 0.9  # sales works them
    # leads the experiment did not pick keep their MQL moment
    kept = ~picked
    assert (a.loc[kept, "mql_at"].isna() == b.loc[kept, "mql_at"].isna()).all()


def test_each_band_is_sampled_at_its_share(runs):
    leads = runs[1].leads
    for share in RULE.shares:
        eligible = leads["exploration_share"] == share
        n, k = int(eligible.sum()), int(leads.loc[eligible, "explored"].sum())
        se = np.sqrt(share * (1 - share) / n)
        assert abs(k / n - share) < 4 * se


def test_scores_at_age_match_scoring_each_lead_up_to_its_moment(world):
    import dataclasses

    rules = dataclasses.replace(world.rules, decay_half_life_days=10.0)
    rng = np.random.default_rng(0)
    n = 40
    created = np.sort(rng.uniform(0, 5000, n))
    counts = rng.integers(0, 6, n)
    offsets = np.r_[0, np.cumsum(counts)]
    t = np.concatenate([np.sort(c + rng.uniform(0, 20000, k)) for c, k in zip(created, counts, strict=True)])
    kind = rng.integers(0, 4, t.size)
    fit = rng.uniform(0, 30, n)
    age = 3 * 1440.0
    score, _ = scores_at_age(rules, fit, created, offsets, t, kind, age)
    for i in range(n):
        lo, hi = offsets[i], offsets[i + 1]
        one = score_stream(
            rules, fit[i : i + 1], created[i : i + 1], np.r_[0, hi - lo], t[lo:hi], kind[lo:hi], created[i] + age
        )
        assert score[i] == pytest.approx(one[1][0], abs=1e-9)


def test_rule_round_trips_and_refuses_bad_input():
    assert ExplorationRule.from_dict(json.loads(RULE.to_json())) == RULE
    assert RULE.share_of(np.array([-5.0, 30.0, 45.0, np.nan])).tolist() == [0.03, 0.1, 0.0, 0.0]
    with pytest.raises(ValueError, match="one more entry"):
        ExplorationRule(edges=[0, 1], shares=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"shares\[1\]"):
        ExplorationRule(edges=[0, 1, 2], shares=[0.1, 1.5])
    with pytest.raises(ValueError, match="missing or bad key"):
        ExplorationRule.from_dict({"bands": [{"score_from": None}]})


def test_labels_weigh_each_explored_lead_by_its_own_share(runs):
    history = calibrate.load_history(runs[1].leads, events=runs[1].events, as_of=runs[1].as_of)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = calibrate.make_labels(history, exploration="explored", exploration_share="exploration_share")
    share = history.leads.set_index("lead_id").loc[labels.lead_id, "exploration_share"].to_numpy()
    expected = np.where(labels.explored, 1.0 / np.where(labels.explored, share, 1.0), 1.0)
    assert np.allclose(labels.sample_weight, expected)
    assert labels.explored.sum() > 50
    assert not {"explored", "explored_at", "exploration_share"} & set(labels.X.columns)
    # an explored lead's clock starts when it was handed over: its counts are those of then
    at = history.leads.set_index("lead_id").loc[labels.lead_id, "explored_at"].to_numpy()
    assert (labels.start_at.to_numpy()[labels.explored] == at[labels.explored]).all()


def test_a_bad_share_names_the_row(runs):
    leads = runs[1].leads.copy()
    row = int(np.flatnonzero(leads["explored"])[3])
    leads.loc[row, "exploration_share"] = 0.0
    history = calibrate.load_history(leads, as_of=runs[1].as_of)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=f"row {row}"):
            calibrate.make_labels(history, exploration="explored", exploration_share="exploration_share")
        with pytest.raises(KeyError, match="'nope'"):
            calibrate.make_labels(history, exploration="explored", exploration_share="nope")


def _inputs(score, p, worked):
    from calibrate.capacity import Window

    n = score.size
    return LeadInputs(
        score=score,
        p_win=p,
        handoff_min=np.zeros(n),
        amount=np.ones(n),
        historical_wait_min=np.zeros(0),
        window=Window.spanning(pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-12-31", tz="UTC")),
        scorecard=None,
        worked=worked,
    )


def test_plausible_high_chance_against_a_slow_reference():
    rng = np.random.default_rng(1)
    n = 3000
    score = rng.integers(0, 80, n).astype(float)
    worked = score >= 40
    p = np.clip(score / 400 + rng.normal(0, 0.02, n), 0, 1)
    got = _inputs(score, p, worked).plausible_high_p(neighbours=50)
    ws, wp = score[worked], p[worked]
    order = np.argsort(ws, kind="stable")
    ws, wp = ws[order], wp[order]
    for i in np.flatnonzero(~worked)[:200]:
        start = min(int(np.searchsorted(ws, score[i])), ws.size - 1)
        stop = min(start + 50, ws.size)
        start = max(stop - 50, 0)
        assert got[i] == pytest.approx(max(p[i], wp[start:stop].mean()))
    assert np.array_equal(got[worked], p[worked])


def test_intervals_span_the_envelope_of_the_unworked_mqls():
    from calibrate.capacity import SalesCapacity, Window

    rng = np.random.default_rng(2)
    n = 4000
    score = rng.integers(0, 50, n).astype(float)
    p = score / 500
    unworked = score < 20
    high = np.where(unworked, 0.05, p)
    credited = np.where(unworked, 0.0, p)
    window = Window.spanning(pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-07-01", tz="UTC"))
    args = dict(
        capacity=SalesCapacity(), window=window, handoff_min=rng.uniform(0, window.end_minutes - 1, n), bootstrap=50
    )
    plain = evaluate_tradeoffs(score, credited, unworked=unworked, **args).table
    wide = evaluate_tradeoffs(score, credited, unworked=unworked, extrapolated_p=high, **args).table
    kept = plain["value_kept"].to_numpy()
    from calibrate.tradeoffs import _kept

    per_month = kept / _kept(SalesCapacity().funnel, None) / window.months
    for row, t in enumerate(plain["threshold"]):
        mqls = score >= t
        top = (high * (mqls & unworked)).sum() * per_month[row]
        assert wide["extrapolated_wins_per_month"].iloc[row] == pytest.approx(top)
        assert wide["wins_per_month_high"].iloc[row] == pytest.approx(plain["wins_per_month_high"].iloc[row] + top)
        assert wide["wins_per_month_year_high"].iloc[row] == pytest.approx(
            plain["wins_per_month_year_high"].iloc[row] + top
        )
        assert wide["extrapolated_share"].iloc[row] == pytest.approx((mqls & unworked).sum() / mqls.sum())
    assert np.array_equal(wide["wins_per_month"], plain["wins_per_month"])


def test_old_threshold_is_the_best_separating_score():
    score = np.array([10, 20, 30, 40, 50, 60.0])
    assert old_threshold(score, score >= 40) == 40
    assert old_threshold(score, np.array([0, 0, 1, 0, 1, 1], bool)) in (30, 50)


@pytest.fixture(scope="module")
def plan(runs):
    plain = runs[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capacity = calibrate.SalesCapacity.from_scenario(plain.scenario)
        return exploration_plan(plain, capacity, rules=plain.scenario.rules, bands=3, precision=0.03, horizon_days=60)


def test_the_plan_needs_what_the_formula_says(plan):
    z = norm.ppf(0.95)
    t = plan.table
    needed = np.ceil(z**2 * t["planning_chance"] * (1 - t["planning_chance"]) / 0.03**2)
    assert np.array_equal(t["leads_needed"], needed)
    sampled = t["share"] * t["eligible_per_month"] * plan.weeks * 12 / 52
    assert np.all((sampled >= t["leads_needed"] - 1e-6) | (t["share"] == 1))
    assert np.all(t["precision"] <= 0.03 + 1e-9)
    assert np.allclose(plan.precision_at(t["planning_chance"]), half_width(t["planning_chance"], sampled, 0.9))
    assert plan.rule.shares == tuple(t["share"])
    # the experiment costs SLA: more leads for the same team never meets it more often
    assert plan.cost["sla_during"] <= plan.cost["sla_without"] + 1e-12
    assert (plan.options["sla_during"].diff().dropna() >= -1e-9).all()  # longer, thinner, lighter
    assert max(len(line) for line in plan.summary().splitlines()) <= 80


def test_the_plan_bands_the_leads_the_experiment_draws_from(plan, runs, world):
    import dataclasses

    every_week = dataclasses.replace(plan.rule, weeks=None)
    leads = run_with_exploration(world, every_week, seed=4).leads
    months = calibrate.inputs.history_window(calibrate.load_history(runs[0].leads, as_of=runs[0].as_of)).months
    drawn_from = leads.groupby("exploration_share")["lead_id"].count()
    planned = plan.table[plan.table["share"] > 0].groupby("share")["eligible_per_month"].sum() * months
    assert len(planned) > 0
    for share, n in planned.items():  # bands of equal share are drawn from together
        assert n == pytest.approx(drawn_from.loc[share], rel=0.005)


def test_the_plan_writes_a_config_once(plan, tmp_path):
    path = tmp_path / "plan.json"
    plan.to_config(path)
    back = json.loads(path.read_text())
    assert ExplorationRule.from_dict(back["rule"]) == plan.rule
    with pytest.raises(FileExistsError, match="plan.json"):
        plan.to_config(path)
    assert path.read_text() == json.dumps(back, indent=2) + "\n"


def test_the_plan_refuses_bad_input(runs):
    with pytest.raises(ValueError, match="precision"):
        exploration_plan(runs[0], calibrate.SalesCapacity(), precision=0.7)
    leads = runs[0].leads.drop(columns="score")
    with pytest.raises(ValueError, match="'score'"):
        exploration_plan(leads, calibrate.SalesCapacity())


def test_after_the_experiment_less_of_the_recommendation_is_extrapolated(runs, world):
    plain, explored = runs
    capacity = calibrate.SalesCapacity.from_scenario(world)
    args = dict(world=None, current_rules=world.rules, simulate_seeds=0, bootstrap=20, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = calibrate.recommend(plain, capacity, **args)
        after = calibrate.recommend(
            explored, capacity, exploration="explored", exploration_share="exploration_share", **args
        )
    share_before = before.expected["extrapolated_share"].value
    share_after = after.expected["extrapolated_share"].value
    assert share_before > 0.05
    assert share_after < share_before / 2
    # the ranges span the envelope: the top exceeds the credited value by the most they may add
    wins = before.expected["wins_per_month"]
    assert wins.high >= wins.value + before.expected["extrapolated_wins_per_month"].value - 1e-9
    assert "never worked" in before.summary()


def test_an_exported_experiment_reads_back_the_same(runs, tmp_path):
    leads = runs[1].leads
    path = tmp_path / "leads.csv"
    leads.to_csv(path, index=False)  # True/False as text, times as ISO text
    args = dict(exploration="explored", exploration_share="exploration_share")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = calibrate.make_labels(calibrate.load_history(leads, as_of=runs[1].as_of), **args)
        csv = calibrate.make_labels(calibrate.load_history(path, as_of=runs[1].as_of), **args)
        assert csv.counts["explored"] == frame.counts["explored"] > 0
        assert np.allclose(np.sort(csv.sample_weight), np.sort(frame.sample_weight))
        bad = leads.assign(explored=leads["explored"].map({True: "yes", False: "no"}).astype(object))
        bad.loc[7, "explored"] = "maybe"
        with pytest.raises(ValueError, match="'explored', row 7: 'maybe'"):
            calibrate.make_labels(calibrate.load_history(bad, as_of=runs[1].as_of), **args)
