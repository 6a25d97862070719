"""Tests for calibrate.tournament: the queue-policy tournament.

The references: the engine's own simulated check (``simulated_load``) for the round-robin
FIFO runs, the definition of common random numbers (a policy's numbers do not depend on
which other policies play), and two properties of queues: a work-conserving pool touches
at least as many leads as separate queues, and calling in score order never costs the top
score band wins.
"""

import dataclasses
import warnings

import numpy as np
import pytest
from scipy import stats

from calibrate.capacity import SalesCapacity
from calibrate.inputs import prepare
from calibrate.policy_tournament import play_inputs, tournament
from calibrate.sla import simulated_load
from calibrate.tradeoffs import _kept
from simulate import POLICIES, Policy, Scenario, Team
from simulate.simulation import run

SEEDS = [11, 12, 13, 14]


@pytest.fixture(scope="module")
def played():
    base = Scenario(months=6)
    scenario = base.replace(team=Team(reps=2), arrivals=dataclasses.replace(base.arrivals, leads_per_month=1500.0))
    history = run(scenario, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = prepare(history, random_state=0)
    capacity = inputs.with_reachability(SalesCapacity.from_scenario(scenario))
    kw = dict(thresholds=8, seeds=SEEDS, seed=0, objective="wins", sla_confidence=0.9, confidence=0.9, bands=(0.5, 0.9))
    return inputs, capacity, kw, play_inputs(inputs, capacity, policies=POLICIES, **kw)


def test_runs_are_the_engines_runs(played):
    """Round robin FIFO in the tournament is exactly the simulated check of the same seeds
    where the handoffs are the history's own (no events)."""
    inputs, capacity, kw, _ = played
    fixed = dataclasses.replace(inputs, path=None)
    t = play_inputs(fixed, capacity, policies=POLICIES[:2], **kw)
    assert not t.handoff_at_threshold
    thresholds = np.sort(t.table["threshold"].unique())
    score, handoff = fixed.load_arrays()
    sim = simulated_load(score, handoff, thresholds, capacity=capacity, window=inputs.window, seeds=SEEDS)
    mine = t.runs[t.runs["policy"] == "round robin, FIFO"].sort_values(["threshold", "seed"])
    np.testing.assert_array_equal(mine["sla_compliance"].to_numpy(), sim["sla_compliance"].to_numpy())
    np.testing.assert_array_equal(mine["median_response_hours"].to_numpy(), sim["median_response_hours"].to_numpy())


def test_leads_are_handed_over_when_their_score_reaches_the_threshold(played):
    """With events each threshold's MQLs arrive when their score first reaches it, as the
    CRM will hand them over: the same as a tournament on those handoffs given as the
    history's own, up to the order the draws are dealt in (within 3 paired standard errors
    over 20 seeds), and unlike the history's own handoffs."""
    inputs, capacity, kw, t = played
    assert t.handoff_at_threshold and inputs.path is not None
    threshold = float(np.median(t.table["threshold"]))
    moved = dataclasses.replace(inputs.with_handoff_for(threshold), path=None)
    assert np.count_nonzero(moved.handoff_min != inputs.handoff_min) > 0
    one = kw | {"thresholds": [threshold], "seeds": list(range(20))}
    ours = play_inputs(inputs, capacity, policies=POLICIES[:1], **one).runs["sla_compliance"].to_numpy()
    given = play_inputs(moved, capacity, policies=POLICIES[:1], **one).runs["sla_compliance"].to_numpy()
    history_own = play_inputs(dataclasses.replace(inputs, path=None), capacity, policies=POLICIES[:1], **one).runs[
        "sla_compliance"
    ]
    diff = ours - given
    assert abs(diff.mean()) <= 3 * diff.std(ddof=1) / np.sqrt(diff.size), diff
    assert not np.array_equal(ours, history_own.to_numpy())


def test_paired_differences_reproducible_bit_for_bit(played):
    inputs, capacity, kw, t = played
    field = [POLICIES[4], POLICIES[0]]  # another field, another order: the same numbers
    again = play_inputs(inputs, capacity, policies=field, **kw)
    for name in (p.name for p in field):
        a = t.runs[t.runs["policy"] == name].sort_values(["threshold", "seed"]).reset_index(drop=True)
        b = again.runs[again.runs["policy"] == name].sort_values(["threshold", "seed"]).reset_index(drop=True)
        assert a.equals(b), name
    g1 = t.gains().set_index("policy").loc[[p.name for p in field]]
    g2 = again.gains().set_index("policy")
    np.testing.assert_array_equal(g1["gain"].to_numpy(), g2.loc[g1.index, "gain"].to_numpy())


def test_work_conserving_pool_never_lowers_throughput(played):
    """A pooled queue leaves no rep idle while a lead waits: paired over seeds and
    thresholds it touches at least as many MQLs as separate queues, within two standard
    errors of the paired mean difference (in a stable queue both touch every MQL: the
    difference is 0 there)."""
    _, _, _, t = played
    r = t.runs.set_index(["threshold", "seed"])
    d = (
        r[r["policy"] == "pooled, FIFO"]["touched_per_month"]
        - r[r["policy"] == "round robin, FIFO"]["touched_per_month"]
    )
    assert d.mean() >= -2 * d.std(ddof=1) / np.sqrt(d.size)
    assert (t.runs["touched_per_month"] <= t.runs["mqls_per_month"] + 1e-12).all()


def test_separate_queues_strand_leads_that_a_pool_touches():
    """One rep of three works an hour a day: round robin leaves his third of the leads
    waiting, the pool (and least-loaded routing) get them touched by the others."""
    from simulate.queue import serve_queue

    rng = np.random.default_rng(3)
    n = 900
    handoff = np.sort(rng.uniform(0, 30 * 1440, n))
    work = rng.exponential(20.0, n)
    full = np.array([[d * 1440 + 540, d * 1440 + 1020] for d in range(40)], float)
    short = np.array([[d * 1440 + 540, d * 1440 + 600] for d in range(40)], float)
    touched = {}
    for routing in ("round_robin", "pooled", "least_loaded", "open_hours"):
        res = serve_queue(handoff, work, rep_intervals=[full, full, short], routing=routing)
        touched[routing] = np.isfinite(res.first_touch_at).sum()
        wait = res.first_touch_at - handoff
        touched[routing + "_p90"] = np.nanquantile(wait, 0.9)
    assert touched["pooled"] >= touched["round_robin"]
    assert touched["least_loaded"] >= touched["round_robin"]
    assert touched["pooled_p90"] < touched["round_robin_p90"]
    assert touched["least_loaded_p90"] < touched["round_robin_p90"]


def test_score_priority_never_lowers_top_band_wins(played):
    """Paired over seeds and thresholds, the top band's wins under score order are at least
    FIFO's, within two standard errors of the paired mean difference."""
    _, _, _, t = played
    b = t.bands[t.bands["band"] == "top 10%"].set_index(["threshold", "seed"])
    for fifo, score_first in (("round robin, FIFO", "round robin, score first"),):
        d = b[b["policy"] == score_first]["wins_per_month"] - b[b["policy"] == fifo]["wins_per_month"]
        assert d.mean() >= -2 * d.std(ddof=1) / np.sqrt(d.size)
        assert (d >= -1e-9).mean() >= 0.9  # and almost never lower in a single run


def test_best_pair_is_feasible_and_highest(played):
    _, _, _, t = played
    best = t.best
    table = t.table
    if table["feasible"].any():
        assert best["feasible"]
        assert best["wins_per_month"] == table.loc[table["feasible"], "wins_per_month"].max()
    gains = t.gains().set_index("policy")
    assert gains.loc[t.reference, "gain"] == 0.0
    for row in gains.itertuples():
        if np.isfinite(row.threshold):
            assert row.gain_low <= row.gain <= row.gain_high
    text = t.summary()
    assert all(len(line) <= 80 for line in text.splitlines())
    assert best["policy"] in text


def test_gain_intervals_carry_the_noise_of_the_outcomes_the_chances_rest_on(played):
    """The interval of a gain is the seeds' paired t interval and the spread of the
    credited chances (a lead's win a Bernoulli draw of its chance) in quadrature."""
    inputs, capacity, _, t = played
    gains = t.gains().set_index("policy")
    assert t.credit_sd[t.reference] == 0.0
    z = stats.norm.ppf(0.5 + t.confidence / 2)
    for name, row in gains.iterrows():
        if name == t.reference or not np.isfinite(row["threshold"]):
            continue
        sd = t.credit_sd[name]
        assert sd > 0
        mine, ref = t._seed_values(name, row["threshold"]), t._seed_values(t.reference, t.best_threshold(t.reference))
        diff = mine - ref
        seeds_half = stats.t.ppf(0.5 + t.confidence / 2, diff.size - 1) * diff.std(ddof=1) / np.sqrt(diff.size)
        np.testing.assert_allclose(row["gain_high"] - row["gain"], np.hypot(seeds_half, z * sd), rtol=1e-12)
        # sd(sum_i y_i d_i) with |d_i| at most one lead's whole credited value: below the
        # spread of the wins of every MQL of either threshold
        low = min(row["threshold"], t.best_threshold(t.reference))
        p = inputs.credited_p_win()[inputs.score >= low]
        scale = 1.0 / (_kept(capacity.funnel, inputs.historical_wait_min) * inputs.window.months)
        assert sd <= np.sqrt(p.sum()) * scale


def test_bad_inputs_get_clear_errors(played):
    inputs, capacity, kw, _ = played
    with pytest.raises(TypeError, match="simulate.Policy"):
        play_inputs(inputs, capacity, policies=["pooled"], **kw)
    with pytest.raises(ValueError, match="must differ"):
        play_inputs(inputs, capacity, policies=[POLICIES[0], Policy()], **kw)
    with pytest.raises(ValueError, match="objective"):
        tournament(Scenario(months=1), objective="sqls")
    with pytest.raises(ValueError, match="aging_per_hour"):
        Policy(discipline="fifo", aging_per_hour=1.0)


def test_choose_routing_puts_the_best_policy_into_the_team(played):
    from calibrate.policy_tournament import choose_routing

    inputs, capacity, _, _ = played
    cap, record, t = choose_routing(
        inputs, capacity, POLICIES[:3], objective="wins", sla_confidence=0.9, seeds=SEEDS[:2], seed=0
    )
    best = t.best_policy
    assert (cap.team.routing, cap.team.discipline) == (best.routing, best.discipline)
    assert record["chosen"] and record["name"] == best.name and record["rule"] == best.rule(cap.sla)
    assert {r["policy"] for r in record["tournament"]["policies"]} == {p.name for p in t.policies}
    same, none, _ = choose_routing(inputs, capacity, "keep", objective="wins", sla_confidence=0.9, seeds=2, seed=0)
    assert same is capacity and none is None
    with pytest.raises(ValueError, match="routing must be"):
        choose_routing(inputs, capacity, "fastest", objective="wins", sla_confidence=0.9, seeds=2, seed=0)


def test_the_config_report_and_crm_export_carry_the_routing_rule(tmp_path):
    from calibrate import Recommendation, recommend, to_hubspot

    base = Scenario(months=6)
    scenario = base.replace(team=Team(reps=2), arrivals=dataclasses.replace(base.arrivals, leads_per_month=1000.0))
    history = run(scenario, seed=2)
    policy = Policy(routing="least_loaded", discipline="highest_score")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = recommend(
            history, SalesCapacity.from_scenario(scenario), world=None, routing=policy, simulate_seeds=0, bootstrap=0
        )
    rule = "assign to the rep with the fewest open MQLs; call in order of score"
    assert rec.routing["rule"].startswith(rule)
    assert rec.tradeoffs.team.routing == "least_loaded"  # the threshold was chosen under it
    assert "Routing: " + rule in rec.summary().replace("\n    ", " ")
    loaded = Recommendation.from_json(rec.to_json())
    assert loaded.routing == rec.routing
    assert to_hubspot(rec)["leadfunnel"]["routing"]["rule"] == rec.routing["rule"]
    assert rule in rec.report(tmp_path / "r.html").read_text()
    bad = rec.to_dict() | {"routing": {**rec.routing, "routing": "fastest"}}
    import json

    with pytest.raises(Exception, match="routing"):
        Recommendation.from_json(json.dumps(bad))
