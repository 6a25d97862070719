"""Tests for calibrate.sla against the queue engine: the analytic model against
``simulated_load``, the simulation's plumbing, and the override rule (``overrides``,
``compare_load``) against its definition on hand-made tables.

Tolerances of the model against the simulation are ``3 * se`` of the simulated mean over
seeds plus the model's own claimed accuracy (``MODEL_*`` below), never a slack that cannot
fail.
"""

import concurrent.futures as cf
import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simulate
from calibrate._testing import SLA_START, SLA_YEAR, default_sales, thresholds_for
from calibrate._testing import year_of_handoffs as default_year_of_handoffs
from calibrate.capacity import SalesCapacity, Window
from calibrate.sla import (
    COMPARED,
    LOAD_COLUMNS,
    TOLERANCE,
    analytic_load,
    compare_load,
    overrides,
    simulated_load,
    simulated_reps_needed,
    validity,
    work_per_mql,
)
from simulate.calendar import ALWAYS_OPEN
from simulate.erlang import prob_wait_within
from simulate.seeding import child_seeds

START, YEAR = SLA_START, SLA_YEAR
DAYS = YEAR.days
MODEL_STEADY = 0.01  # what the model claims on steady always-open queues (compliance and value kept)
MODEL_CALENDARS = 0.02  # and on weekday calendars with shrinkage, follow-ups and breach actions


def gap_and_bound(analytic, simulated, figure, model):
    """Per threshold: |analytic - simulated mean| and its bound ``3 * se + model`` (se of the
    mean over seeds)."""
    grouped = simulated.groupby("threshold")[figure]
    se = grouped.std(ddof=1) / np.sqrt(grouped.count())
    gap = (analytic.set_index("threshold")[figure] - grouped.mean()).abs()
    return gap, 3.0 * se + model


# The simulated checks name their seeds (0, 1, ...): the tolerances below were set on these
# seeds, when a count n meant seeds 0 .. n-1 (a count now means the children of ``seed``).


sales = default_sales


@pytest.fixture(scope="module")
def year_of_handoffs():
    return default_year_of_handoffs()


STEADY_TEAM = simulate.Team(reps=4, calendar=ALWAYS_OPEN, shrinkage=0.0, attempts=1, cadence_days=(), routing="pooled")
STEADY_SLA = simulate.SLA(hours=0.25, clock="calendar", breach="none", calendar=ALWAYS_OPEN)


@pytest.fixture(scope="module")
def steady():
    """Poisson handoffs around the clock at up to 95% of four always-open reps."""
    rng = np.random.default_rng(1)
    mean = STEADY_TEAM.first_touch.mean_minutes
    rate = 0.95 * STEADY_TEAM.reps / mean
    n = rng.poisson(rate * DAYS * 1440)
    handoff = np.sort(rng.random(n)) * DAYS * 1440
    score = rng.random(n)
    loads = np.array([0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95])
    thresholds = 1.0 - loads / 0.95
    capacity = SalesCapacity(
        team=STEADY_TEAM, sla=STEADY_SLA, funnel=simulate.Funnel(), contact_rate=1.0, bad_data_share=0.0
    )
    a = analytic_load(score, handoff, thresholds, capacity=capacity, window=YEAR)
    s = simulated_load(score, handoff, thresholds, capacity=capacity, window=YEAR, seeds=[0, 1, 2, 3])
    return loads, a, s


def test_steady_load_agrees_with_simulation(steady):
    """Always-open calendars, no shrinkage, a pooled FIFO queue, one attempt: the analytic
    model is Erlang C with the Allen-Cunneen factor; SLA compliance and value kept within
    ``3 * se + MODEL_STEADY`` of the simulation's mean over seeds at every load from 30% to
    95% (at 95% the value kept of four seeds has a standard error of a few thousandths: a
    fixed 0.01 held only on the seeds it was set on)."""
    loads, a, s = steady
    assert np.allclose(a.set_index("threshold")["utilisation"].to_numpy()[::-1], loads, atol=0.01)
    for figure in ("sla_compliance", "value_kept"):
        gap, bound = gap_and_bound(a, s, figure, MODEL_STEADY)
        assert (gap <= bound).all(), (figure, gap, bound)


@pytest.fixture(scope="module")
def weekday(year_of_handoffs):
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    thresholds = thresholds_for(score, [2000, 4000, 6000, 8000, 10000])
    kw = dict(capacity=SalesCapacity.from_scenario(s), window=YEAR)
    return analytic_load(score, handoff, thresholds, **kw), simulated_load(
        score, handoff, thresholds, seeds=[0, 1, 2, 3], **kw
    )


def test_weekday_calendars_agree_with_simulation_where_plain_erlang_c_does_not(weekday, year_of_handoffs):
    """The default team (four reps 9-17 New York, weekdays, holidays, 25% shrinkage, round
    robin, six attempts, reassign at breach) and its 8-business-hour SLA, at 16% to 82%
    utilisation.

    Tolerance: ``3 * se + MODEL_CALENDARS`` for SLA compliance and value kept. The model
    approximates the timing of follow-ups (their expected work placed on the cadence after
    the first possible start), the drain of a batch (a fluid)
    and shrinkage (whole days of leave strand a round-robin rep's leads; meetings as an
    average); on this team the measured gap is up to 0.033 at 82% (the model is a little
    pessimistic near capacity) and under 0.025 below, and the mean of four simulated
    years has a standard error of about 0.005 at 82% utilisation.

    Plain Erlang C is wrong here by far more than that: with the year's MQLs spread over
    calendar time (0.2 to 1.1 an hour) and four reps at 75% availability (6 MQLs an hour
    of capacity), it says every MQL is touched within 8 hours but for a chance below
    1e-6 (about 1e-17 at the busiest), at every one of these loads; the simulation shows
    0.97 at 16% utilisation (the leads of a rep on leave wait for his return) down to 0.68
    at 82% (the night and weekend batches, the follow-ups).
    """
    a, s = weekday
    sim = s.groupby("threshold")[["sla_compliance", "value_kept", "utilisation"]].mean()
    a = a.set_index("threshold")
    assert (a["utilisation"] < 0.85).all()
    for figure in ("sla_compliance", "value_kept"):
        gap, bound = gap_and_bound(a.reset_index(), s, figure, MODEL_CALENDARS)
        assert (gap <= bound).all(), (figure, gap, bound)
    team = simulate.Team()
    mean, _ = work_per_mql(team, contact_rate=0.68, bad_data_share=0.04)
    for mqls, simulated in zip(a["mqls"], sim["sla_compliance"]):
        rate = mqls / (DAYS * 1440)
        plain = float(prob_wait_within(480.0, team.reps, rate, (1 - team.shrinkage) / mean))
        assert plain > 0.999999
        assert plain - simulated > 0.02  # more than the tolerance: plain Erlang C is wrong here


def test_breach_actions_follow_the_simulation(year_of_handoffs):
    """Recycling at the deadline removes leads (no value, no response); reassigning gets them
    touched. Both follow the simulation's compliance and value within ``3 * se +
    MODEL_CALENDARS`` (breach none was off 0.031 on seeds where a fixed 0.02 was set)."""
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    thresholds = thresholds_for(score, [4000, 8000])
    for breach in ("recycle", "none"):
        kw = dict(capacity=sales(sla=dataclasses.replace(s.sla, breach=breach)), window=YEAR)
        a = analytic_load(score, handoff, thresholds, **kw).set_index("threshold")
        sim = simulated_load(score, handoff, thresholds, seeds=[0, 1, 2, 3], **kw)
        for figure in ("sla_compliance", "value_kept"):
            gap, bound = gap_and_bound(a.reset_index(), sim, figure, MODEL_CALENDARS)
            assert (gap <= bound).all(), (breach, figure, gap, bound)


def test_value_kept_matches_the_decay_averaged_over_simulated_waits(year_of_handoffs):
    """value_kept against a Monte Carlo average of connect_decay * qualify_decay over the
    waits the queue engine produces (pooled team, weekday calendars), within 0.02; on the
    always-open steady queue the same holds within 0.01 (test above)."""
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    team = dataclasses.replace(s.team, routing="pooled")
    thresholds = thresholds_for(score, [3000, 7000])
    a = analytic_load(score, handoff, thresholds, capacity=sales(team=team), window=YEAR)
    # the Monte Carlo, by hand: one seed's draws, the engine's waits, the decay averaged
    rng = np.random.default_rng(11)
    iv = team.working_intervals(START, YEAR.queue_days, rng=rng)
    for threshold, value in zip(a["threshold"], a["value_kept"]):
        idx = np.flatnonzero(score >= threshold)
        h = handoff[idx]
        order = np.argsort(h)
        h = h[order]
        m = h.size
        bad = rng.random(m) < 0.04
        reach = rng.random(m) < 0.68
        cdf = 1.0 - 0.6**team.attempts  # the answering attempt, truncated geometric
        k = np.clip(np.ceil(np.log1p(-rng.random(m) * cdf) / np.log1p(-0.4)), 1, team.attempts).astype(int)
        attempts = np.where(bad, 1, np.where(reach, k, team.attempts))
        res = simulate.serve_queue(
            h,
            team.first_touch.draw(m, rng),
            rep_intervals=iv,
            routing="pooled",
            attempts=attempts,
            attempt_gap_minutes=team.attempt_gap_minutes,
            attempt_minutes=team.follow_up.draw(m, rng),
        )
        wait = res.first_touch_at - h
        kept = np.where(
            np.isfinite(wait),
            s.funnel.connect_decay(np.nan_to_num(wait)) * s.funnel.qualify_decay(np.nan_to_num(wait)),
            0.0,
        )
        assert value == pytest.approx(kept.mean(), abs=0.02)


def test_adding_reps_never_lowers_simulated_compliance(year_of_handoffs):
    """A pooled FIFO team with one calendar: each seed's compliance never falls as reps are
    added (the first reps keep their calendars and every lead keeps its draws). For round
    robin a rep added changes who gets which lead, so only the mean over seeds is monotone
    up to its noise (checked within two standard errors)."""
    score, handoff = year_of_handoffs
    s = simulate.Scenario()
    thresholds = thresholds_for(score, [4000, 9000])
    for routing, exact in (("pooled", True), ("round_robin", False)):
        team = dataclasses.replace(
            s.team, routing=routing, shrinkage=0.0 if exact else 0.25, attempts=1 if exact else 6
        )
        frames = [
            simulated_load(
                score,
                handoff,
                thresholds,
                capacity=sales(team=dataclasses.replace(team, reps=r)),
                window=YEAR,
                seeds=[0, 1, 2],
            ).assign(reps=r)
            for r in range(2, 7)
        ]
        table = pd.concat(frames).pivot_table(index=["threshold", "seed"], columns="reps", values="sla_compliance")
        steps = np.diff(table.to_numpy(), axis=1)
        if exact:
            assert np.all(steps >= 0), table
        else:
            mean_steps = np.diff(table.groupby("threshold").mean().to_numpy(), axis=1)
            se = table.groupby("threshold").std().to_numpy()[:, 1:] / np.sqrt(3)
            assert np.all(mean_steps >= -2 * se - 1e-9), table


# --------------------------------------------------------------------------------------
# Simulation plumbing and the comparison
# --------------------------------------------------------------------------------------


def test_simulated_load_keeps_each_leads_draws_and_ignores_the_executor(year_of_handoffs):
    score, handoff = year_of_handoffs
    kw = dict(capacity=sales(), window=YEAR, seeds=[3, 8])
    t = thresholds_for(score, [3000, 6000])
    both = simulated_load(score, handoff, t, **kw)
    one = simulated_load(score, handoff, t[1:], **kw)
    pd.testing.assert_frame_equal(both[both["threshold"] == t[1]].reset_index(drop=True), one)
    with cf.ThreadPoolExecutor(2) as pool:
        pooled = simulated_load(score, handoff, t, executor=pool, **kw)
    pd.testing.assert_frame_equal(both, pooled)
    assert tuple(both.columns) == ("threshold", "seed", *LOAD_COLUMNS[1:])
    assert both["reps_needed"].isna().all()


def test_simulated_reps_needed_searches_the_sizes_given(year_of_handoffs):
    score, handoff = year_of_handoffs
    t = thresholds_for(score, [3000, 9000])
    sim = simulated_load(score, handoff, t, capacity=sales(), window=YEAR, seeds=[0, 1], reps=[3, 4, 5, 6, 8])
    need = sim.groupby("threshold")["reps_needed"].max()
    assert need.iloc[0] > need.iloc[1]  # more MQLs need more reps
    assert set(sim["reps_needed"].dropna()) <= {3, 4, 5, 6, 8, -1}


def test_simulated_reps_needed_is_the_median_seeds_smallest_team(year_of_handoffs):
    """Against a team of each size run on its own (a pooled team with one calendar and no
    shrinkage: every size keeps the same calendars): per seed the smallest size meeting the
    target, and the median over the seeds."""
    score, handoff = year_of_handoffs
    team = dataclasses.replace(simulate.Scenario().team, routing="pooled", shrinkage=0.0, attempts=1, reps=4)
    seeds = [0, 1, 2, 3, 4]
    for t in thresholds_for(score, [16000, 22000]):  # 4 and 5 reps, inside the sizes tried
        got = simulated_reps_needed(score, handoff, t, capacity=sales(team=team), window=YEAR, seeds=seeds)
        met = {
            r: simulated_load(
                score,
                handoff,
                [t],
                capacity=sales(team=dataclasses.replace(team, reps=r)),
                window=YEAR,
                seeds=seeds,
            )["sla_compliance"].to_numpy()
            >= sales().sla.target
            for r in range(2, 9)
        }
        smallest = [min([r for r in met if met[r][i]], default=np.inf) for i in range(len(seeds))]
        want = np.quantile(smallest, 0.5, method="higher")
        assert got == (int(want) if np.isfinite(want) else None), (t, smallest)


def test_compare_load_trusts_the_simulation_where_they_disagree(weekday):
    """Inside the validity rule's domain (utilisation up to MAX_UTILISATION) the override
    rule keeps the analytic figures."""
    a, s = weekday
    table = compare_load(a, s)
    inside = validity(SalesCapacity.from_scenario(simulate.Scenario()), YEAR).trusted_at(a["utilisation"])
    assert inside.sum() >= 3 and (table["trust"][inside] == "analytic").all()
    assert table["sla_compliance_low"].le(table["sla_compliance_simulated"]).all()
    wrong = a.copy()
    wrong.loc[2, "sla_compliance"] = 0.2
    table = compare_load(wrong, s)
    assert table.loc[2, "trust"] == "simulation"
    assert table.loc[2, "sla_compliance"] == pytest.approx(table.loc[2, "sla_compliance_simulated"])
    assert table.loc[1, "sla_compliance"] == table.loc[1, "sla_compliance_analytic"]


S = simulate.Scenario()
CAPACITY = SalesCapacity.from_scenario(S)
MONTH = Window(start=START, days=30)
KW = dict(capacity=CAPACITY, window=MONTH)


def test_simulation_and_comparison_validation():
    with pytest.raises(ValueError, match="seeds must be a count >= 1"):
        simulated_load([1], [1.0], [1], seeds=0, **KW)
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        simulated_load([1], [1.0], [1], seeds=[], **KW)
    with pytest.raises(ValueError, match=r"attempt_connect_share must be in \(0, 1\]"):
        work_per_mql(S.team, contact_rate=0.5, attempt_connect_share=0.0)
    a = analytic_load([1], [1.0], [1], **KW)
    s = simulated_load([1], [1.0], [1], seeds=1, **KW)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        compare_load(a, s, level=1.0)
    with pytest.raises(ValueError, match=r"simulated lacks the columns \['value_kept'\]"):
        compare_load(a, s.drop(columns="value_kept"))
    with pytest.raises(ValueError, match="tolerance names unknown figures"):
        compare_load(a, s, tolerance={"speed": 1.0})
    with pytest.raises(ValueError, match=r"analytic lacks the columns \['reps_needed'\]"):
        compare_load(a.drop(columns="reps_needed"), s)
    with pytest.raises(ValueError, match=r"analytic lacks the columns \['p90_response_hours'\]"):
        overrides(a.drop(columns="p90_response_hours"), s)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        overrides(a, s, level=0.0)
    with pytest.raises(ValueError, match="analytic and simulated share no threshold"):
        overrides(a.assign(threshold=2.0), s)


def test_a_count_of_seeds_means_the_children_of_seed():
    """``seeds=n`` runs the n children of ``seed`` (simulate.seeding), the same numbers as
    naming those seeds."""
    rng = np.random.default_rng(6)
    score = rng.random(400)
    handoff = np.sort(rng.random(400)) * 30 * 1440
    counted = simulated_load(score, handoff, [0.5], seeds=2, seed=7, **KW)
    named = simulated_load(score, handoff, [0.5], seeds=child_seeds(7, 2), **KW)
    pd.testing.assert_frame_equal(counted, named)
    assert counted["seed"].tolist() == child_seeds(7, 2)


# --------------------------------------------------------------------------------------
# The override rule
# --------------------------------------------------------------------------------------


def random_check(rng, thresholds, seeds, spread):
    """An analytic table and a simulated one (``seeds`` rows per threshold) around it."""
    centre = {
        "utilisation": rng.uniform(0.1, 1.2, thresholds.size),
        "sla_compliance": rng.uniform(0.3, 1.0, thresholds.size),
        "median_response_hours": rng.uniform(0.0, 20.0, thresholds.size),
        "p90_response_hours": rng.uniform(5.0, 60.0, thresholds.size),
        "value_kept": rng.uniform(0.2, 0.5, thresholds.size),
    }
    rows = [
        {"threshold": t, "seed": s, **{x: v[i] * (1 + spread * rng.standard_normal()) for x, v in centre.items()}}
        for i, t in enumerate(thresholds)
        for s in range(seeds)
    ]
    analytic = pd.DataFrame(
        {"threshold": thresholds, **{x: v * (1 + 2 * spread * rng.standard_normal(v.size)) for x, v in centre.items()}}
    )
    return analytic, pd.DataFrame(rows)


@pytest.mark.parametrize("level", [0.5, 0.9])
def test_overrides_where_the_analytic_value_leaves_the_widened_seed_interval(level):
    """Against the rule computed by hand: the Student t interval of the seeds' mean, widened
    by the tolerance; ``trust`` follows SLA compliance and value kept alone."""
    rng = np.random.default_rng(12)
    thresholds = np.arange(40.0)
    analytic, simulated = random_check(rng, thresholds, seeds=7, spread=0.05)
    verdict = overrides(analytic, simulated, level=level)
    assert verdict["threshold"].tolist() == thresholds.tolist()
    assert (verdict["seeds"] == 7).all()
    any_overridden = {x: 0 for x in COMPARED}
    for i, t in enumerate(thresholds):
        seeds = simulated[simulated["threshold"] == t]
        decided = False
        for x in COMPARED:
            half = stats.t.ppf((1 + level) / 2, len(seeds) - 1) * seeds[x].std(ddof=1) / np.sqrt(len(seeds))
            lo, hi = seeds[x].mean() - half, seeds[x].mean() + half
            a = analytic[x].iloc[i]
            outside = not (lo - TOLERANCE[x] <= a <= hi + TOLERANCE[x])
            assert verdict[f"{x}_overridden"].iloc[i] == outside, (t, x)
            assert verdict[f"{x}_simulated"].iloc[i] == pytest.approx(seeds[x].mean(), rel=1e-12)
            assert verdict[f"{x}_low"].iloc[i] == pytest.approx(lo, rel=1e-12)
            assert verdict[f"{x}_analytic"].iloc[i] == a
            any_overridden[x] += outside
            decided |= outside and x in ("sla_compliance", "value_kept")
        assert verdict["trust"].iloc[i] == ("simulation" if decided else "analytic")
    assert min(any_overridden.values()) > 0 and max(any_overridden.values()) < thresholds.size  # both cases seen


def test_an_override_of_utilisation_or_response_times_alone_keeps_the_analytic_trust():
    figures = {"utilisation": 0.5, "sla_compliance": 0.9, "median_response_hours": 2.0, "value_kept": 0.4}
    simulated = pd.DataFrame([{"threshold": 1.0, "seed": s, "p90_response_hours": np.inf, **figures} for s in range(3)])
    analytic = pd.DataFrame([{"threshold": 1.0, "p90_response_hours": np.inf, **figures, "utilisation": 0.9}])
    verdict = overrides(analytic, simulated).iloc[0]
    assert verdict["utilisation_overridden"] and verdict["trust"] == "analytic"
    assert not verdict["p90_response_hours_overridden"]  # never touched in both: they agree
    finite = overrides(analytic.assign(p90_response_hours=30.0), simulated).iloc[0]
    assert finite["p90_response_hours_overridden"]
    shifted = overrides(analytic.assign(sla_compliance=0.9 - TOLERANCE["sla_compliance"] - 1e-9), simulated)
    assert shifted["trust"].iloc[0] == "simulation"
    edge = overrides(analytic.assign(sla_compliance=0.9 - TOLERANCE["sla_compliance"] / 2), simulated)
    assert edge["trust"].iloc[0] == "analytic"


def test_overrides_takes_any_table_with_the_figures_and_the_thresholds_both_have():
    """The trade-off table carries more columns and every threshold; the check ran on some."""
    rng = np.random.default_rng(3)
    analytic, simulated = random_check(rng, np.arange(10.0), seeds=3, spread=0.02)
    table = analytic.assign(precision=0.3, wins_per_month=5.0)
    verdict = overrides(table, simulated[simulated["threshold"].isin([2.0, 7.0, 5.0])])
    assert verdict["threshold"].tolist() == [2.0, 5.0, 7.0]
    assert list(verdict.columns[:3]) == ["threshold", "trust", "seeds"]
    expected = [f"{x}_{part}" for x in COMPARED for part in ("analytic", "simulated", "low", "high", "overridden")]
    assert list(verdict.columns[3:]) == expected


def test_wider_intervals_and_tolerances_never_override_more(weekday):
    a, s = weekday
    wrong = a.assign(sla_compliance=a["sla_compliance"] - 0.05)
    narrow = overrides(wrong, s, level=0.5)
    wide = overrides(wrong, s, level=0.98)
    lenient = overrides(wrong, s, tolerance={x: 1e6 for x in COMPARED})
    for x in COMPARED:
        assert not (wide[f"{x}_overridden"] & ~narrow[f"{x}_overridden"]).any()
        assert not lenient[f"{x}_overridden"].any()
    assert narrow["sla_compliance_overridden"].all()


def test_compare_load_is_built_on_the_override_rule(weekday):
    a, s = weekday
    wrong = a.copy()
    wrong.loc[1, "value_kept"] = 0.9
    for level, tolerance in ((0.9, None), (0.6, {"sla_compliance": 0.0, "value_kept": 0.0})):
        verdict = overrides(wrong, s, level=level, tolerance=tolerance)
        table = compare_load(wrong, s, level=level, tolerance=tolerance)
        assert table["threshold"].tolist() == verdict["threshold"].tolist()
        assert table["trust"].tolist() == verdict["trust"].tolist()
        for x in COMPARED:
            chosen = np.where(verdict[f"{x}_overridden"], verdict[f"{x}_simulated"], verdict[f"{x}_analytic"])
            np.testing.assert_array_equal(table[x].to_numpy(), chosen)
            for part in ("analytic", "simulated", "low", "high"):
                np.testing.assert_array_equal(table[f"{x}_{part}"].to_numpy(), verdict[f"{x}_{part}"].to_numpy())
    assert compare_load(wrong, s).loc[1, "trust"] == "simulation"
