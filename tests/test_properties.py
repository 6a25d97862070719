"""Property-based checks of the simulator's invariants (Hypothesis)."""

import dataclasses

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simulate
from simulate import Scenario, ScoringRules
from simulate.calendar import WorkingCalendar
from simulate.rules import Bins, Grades
from simulate.table import BEHAVIOUR_COLUMNS

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def bins(draw):
    edges = draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=5, unique=True))
    edges = sorted(edges)
    points = draw(st.lists(st.integers(-50, 50), min_size=len(edges) + 1, max_size=len(edges) + 1))
    return Bins(edges=tuple(edges), points=tuple(points), missing=draw(st.integers(-5, 5)))


@st.composite
def rules(draw):
    fit = draw(
        st.dictionaries(
            st.sampled_from(["job_level", "industry", "region"]),
            st.dictionaries(names, st.integers(-30, 30), max_size=4),
            max_size=3,
        )
    )
    engagement = draw(st.dictionaries(st.sampled_from(BEHAVIOUR_COLUMNS), bins(), max_size=4))
    grades = None
    if draw(st.booleans()):
        grades = Grades(
            fit_edges=(10.0, 20.0), engagement_thresholds=tuple(draw(st.lists(finite, min_size=3, max_size=3)))
        )
    lo = draw(st.floats(-100, 0))
    return ScoringRules(
        fit=fit,
        fit_numeric={"company_size": draw(bins())} if draw(st.booleans()) else {},
        engagement=engagement,
        decay_half_life_days=draw(st.none() | st.floats(0.1, 365)),
        score_min=lo,
        score_max=lo + draw(st.floats(1, 500)),
        mql_threshold=draw(finite),
        grades=grades,
    )


@FAST
@given(rules())
def test_rules_json_round_trip_is_exact(r):
    assert ScoringRules.from_json(r.to_json()) == r


@st.composite
def scenarios(draw):
    base = Scenario()
    shares = np.asarray(draw(st.lists(st.floats(0.01, 1), min_size=2, max_size=5)))
    shares = shares / shares.sum()
    sources = {f"src {i} {draw(names)}": float(v) for i, v in enumerate(shares)}
    sources[next(iter(sources))] += 1.0 - sum(sources.values())
    campaign = simulate.Campaign(
        name=draw(names),
        start="2026-02-03",
        days=draw(st.integers(1, 20)),
        extra_leads=draw(st.floats(0, 5000)),
        source=next(iter(sources)),
        intent_shift=draw(st.floats(-2, 2)),
    )
    return base.replace(
        name=draw(names),
        months=draw(st.integers(1, 24)),
        arrivals=dataclasses.replace(base.arrivals, leads_per_month=draw(st.floats(0, 1e5)), campaigns=(campaign,)),
        population=dataclasses.replace(base.population, sources=sources, source_fit_shift={}, source_intent_shift={}),
        truth=dataclasses.replace(
            base.truth,
            weights={k: v for k, v in base.truth.weights.items() if k != "source"},
            noise_sd=draw(st.floats(0, 3)),
        ),
        team=dataclasses.replace(base.team, reps=draw(st.integers(1, 50)), shrinkage=draw(st.floats(0, 0.9))),
        sla=dataclasses.replace(
            base.sla, hours=draw(st.floats(0.1, 200)), clock=draw(st.sampled_from(["business", "calendar"]))
        ),
    )


@FAST
@given(scenarios())
def test_scenario_toml_round_trip_is_exact(s):
    assert Scenario.from_toml(s.to_toml()) == s


@st.composite
def small_worlds(draw):
    s = Scenario(months=1)
    return s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=draw(st.floats(50, 400)), campaigns=()),
        team=dataclasses.replace(
            s.team,
            reps=draw(st.integers(1, 4)),
            routing=draw(st.sampled_from(["round_robin", "pooled"])),
            discipline=draw(st.sampled_from(["fifo", "highest_score", "newest"])),
            attempts=draw(st.integers(1, 6)),
        ),
        sla=dataclasses.replace(
            s.sla,
            hours=draw(st.floats(1, 48)),
            breach=draw(st.sampled_from(["none", "reassign", "escalate", "recycle"])),
        ),
        rules=s.rules.replace_threshold(draw(st.floats(30, 80))),
    )


@FAST
@given(small_worlds(), st.integers(0, 2**16))
def test_every_mql_is_in_exactly_one_state(s, seed):
    leads = simulate.run(s, seed=seed).leads
    stage = leads["deal_stage"].astype("object")
    states = pd.DataFrame(
        {
            "won": leads["customer_at"].notna(),
            "lost": stage.eq("closed_lost"),
            "on_hold": stage.eq("on_hold"),
            "open": stage.isin(["meeting_booked", "proposal"]),
            "recycled": leads["recycled_reason"].notna(),
        }
    )
    mql = leads["mql_at"].notna()
    assert (states[mql].sum(axis=1) <= 1).all()
    assert not states[~mql].any().any()


@FAST
@given(st.floats(20, 90), st.floats(0.1, 30), st.integers(0, 2**16), st.booleans())
def test_higher_threshold_never_more_mqls(low, step, seed, decay):
    s = Scenario(months=1)
    s = s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=300.0, campaigns=()),
        rules=dataclasses.replace(s.rules, decay_half_life_days=30.0 if decay else None),
    )
    a = simulate.run(s.replace(rules=s.rules.replace_threshold(low)), seed=seed).leads
    b = simulate.run(s.replace(rules=s.rules.replace_threshold(low + step)), seed=seed).leads
    assert (b["mql_at"].notna() <= a["mql_at"].notna()).all()
    both = a["mql_at"].notna() & b["mql_at"].notna()
    assert (b.loc[both, "mql_at"] >= a.loc[both, "mql_at"]).all()


@FAST
@given(st.lists(st.integers(0, 20), min_size=1, max_size=30), st.integers(1, 6), st.integers(0, 2**16))
def test_more_reps_never_lower_compliance(gaps, reps, seed):
    rng = np.random.default_rng(seed)
    handoff = np.cumsum(np.asarray(gaps, dtype=float) * 37.0)
    work = rng.uniform(5, 90, handoff.size)
    cal = WorkingCalendar(timezone="UTC").intervals(simulate.Scenario().start_date, 60)
    deadline = handoff + 8 * 60
    shares = []
    for c in (reps, reps + 1):
        q = simulate.serve_queue(handoff, work, rep_intervals=[cal] * c, routing="pooled", deadline_at=deadline)
        shares.append(np.mean(q.first_touch_at <= deadline))
    assert shares[1] >= shares[0]


@FAST
@given(bins(), st.lists(st.integers(0, 20), min_size=2, max_size=10))
def test_monotone_bins_score_more_for_more_events(b, counts):
    monotone = Bins(edges=b.edges, points=tuple(sorted(b.points)))
    counts = np.sort(np.asarray(counts, dtype=float))
    assert np.all(np.diff(monotone(counts)) >= 0)
