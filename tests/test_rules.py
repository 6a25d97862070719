"""Scoring rules: points, JSON round trips, and MQL timing against a slow reference."""

import dataclasses

import numpy as np
import pandas as pd
import pytest

import simulate
from simulate import ScoringRules
from simulate.rules import Bins, Grades
from simulate.spec import SpecError
from simulate.table import BEHAVIOUR_COLUMNS


def test_bins_points():
    b = Bins(edges=(1, 3), points=(0, 5, 12), missing=-1)
    assert b(np.array([0, 1, 2.9, 3, 100, np.nan])).tolist() == [0, 5, 5, 12, 12, -1]
    assert Bins.per_event(5, 20) == Bins(edges=(1, 2, 3, 4), points=(0, 5, 10, 15, 20))


def test_fit_points_and_score_limits():
    rules = ScoringRules(
        fit={"job_level": {"vp": 30}},
        fit_numeric={"company_size": Bins(edges=(100,), points=(0, 10))},
        engagement={"page_views": Bins.per_event(10, 50)},
        score_min=0,
        score_max=60,
        mql_threshold=45,
    )
    leads = pd.DataFrame(
        {"job_level": ["vp", "vp", "manager", None], "company_size": [500, 5, np.nan, 50], "page_views": [9, 1, 0, 2]}
    )
    assert rules.fit_points(leads).tolist() == [40, 30, 0, 0]
    assert rules.score(leads).tolist() == [60, 40, 0, 20]
    assert rules.is_mql(leads).tolist() == [True, False, False, False]


def test_two_axis_rule():
    rules = ScoringRules(
        fit={"job_level": {"vp": 30, "manager": 10}},
        engagement={"webinars": Bins(edges=(1, 2), points=(0, 10, 25))},
        grades=Grades(fit_edges=(5, 20), engagement_thresholds=(1e9, 25, 10)),
    )
    leads = pd.DataFrame({"job_level": ["vp", "manager", "manager", "student"], "webinars": [1, 1, 2, 5]})
    assert rules.grades.grade(rules.fit_points(leads)).tolist() == [2, 1, 1, 0]
    assert rules.is_mql(leads).tolist() == [True, False, True, False]
    assert rules.grades.grade_names == ("C", "B", "A")


def test_json_round_trip(tmp_path):
    rules = dataclasses.replace(
        simulate.scenario.default_rules(),
        grades=Grades(fit_edges=(10.0,), engagement_thresholds=(50.0, 20.0), names=("cold", "warm")),
    )
    path = tmp_path / "rules.json"
    rules.to_json(path)
    assert ScoringRules.from_json(path) == rules
    assert ScoringRules.from_json(rules.to_json()) == rules


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"mql_threshold": "high"}', r"mql_threshold: expected a number"),
        ('{"engagement": {"page_views": {"edges": [2, 1], "points": [0, 1, 2]}}}', r"strictly increasing"),
        ('{"threshold": 5}', r"threshold: unknown key"),
        ('{"score_min": 10, "score_max": 5}', r"score_min \(10\.0\) must be below"),
        ('{"fit": {"job_level": {"vp": 2.5}}}', r"fit\.job_level\.vp: expected a whole number"),
        ('{"format": "other/1"}', r"format 'other/1'"),
        ("{not json", r"not valid JSON"),
    ],
)
def test_bad_rules_refused(text, match):
    with pytest.raises(SpecError, match=match):
        ScoringRules.from_json(text)


def test_points_table_lists_every_criterion():
    rules = simulate.scenario.default_rules()
    table = rules.table()
    assert set(table["criterion"]) == set(rules.columns)
    assert table.loc[table["criterion"] == "demo_requests", "points"].tolist() == [0, 40]


# --- MQL timing from the event stream against a slow reference -----------------------------


def reference_mql(rules: ScoringRules, leads: pd.DataFrame, events: pd.DataFrame, as_of: pd.Timestamp):
    """For each lead, try every moment (creation, then each event) and score from scratch."""
    fit = rules.fit_points(leads)
    out_mql, out_score = [], []
    by_lead = {k: g for k, g in events.groupby("lead_id")}
    half_life = rules.decay_half_life_days

    def score_at(t, ev):
        seen = ev[ev["at"] <= t]
        eng = 0.0
        for column, bins in rules.engagement.items():
            kind = column[:-1]
            at = seen.loc[seen["kind"] == kind, "at"]
            if half_life is None:
                count = float(len(at))
            else:
                age_days = (t - at).dt.total_seconds().to_numpy() / 86400.0
                count = float(np.sum(0.5 ** (age_days / half_life)))
            eng += float(bins(np.array([count]))[0])
        return eng

    for i, lead in enumerate(leads.itertuples()):
        ev = by_lead.get(lead.lead_id, events.iloc[:0])
        moments = [lead.created_at, *ev["at"]]
        mql = pd.NaT
        for t in moments:
            eng = score_at(t, ev)
            if rules.grades is not None:
                need = rules.grades.engagement_thresholds[int(rules.grades.grade(np.array([fit[i]]))[0])]
                ok = eng >= need
            else:
                ok = np.clip(fit[i] + eng, rules.score_min, rules.score_max) >= rules.mql_threshold
            if ok:
                mql = t
                break
        out_mql.append(mql)
        out_score.append(np.clip(fit[i] + score_at(as_of, ev), rules.score_min, rules.score_max))
    return pd.Series(out_mql, dtype="datetime64[ns, UTC]"), np.array(out_score)


def random_rules(rng: np.random.Generator) -> ScoringRules:
    engagement = {}
    for column in rng.choice(BEHAVIOUR_COLUMNS, size=rng.integers(1, 6), replace=False):
        k = int(rng.integers(1, 4))
        edges = tuple(float(e) for e in np.sort(rng.choice(np.arange(1, 8), size=k, replace=False)))
        points = tuple(int(p) for p in rng.integers(-5, 25, size=k + 1))
        engagement[str(column)] = Bins(edges=edges, points=points)
    grades = None
    if rng.random() < 0.3:
        grades = Grades(fit_edges=(5.0, 15.0), engagement_thresholds=tuple(float(x) for x in rng.integers(0, 50, 3)))
    return ScoringRules(
        fit={"job_level": {"vp": int(rng.integers(0, 30)), "director": 10}, "region": {"emea": 5}},
        engagement=engagement,
        decay_half_life_days=None if rng.random() < 0.4 else float(rng.uniform(0.5, 40)),
        score_min=0.0,
        score_max=float(rng.integers(40, 101)),
        mql_threshold=float(rng.integers(5, 60)),
        grades=grades,
    )


@pytest.mark.parametrize("case", range(12))
def test_mql_moment_matches_slow_reference(case):
    rng = np.random.default_rng(case)
    base = simulate.Scenario(months=1)
    rules = random_rules(rng)
    scenario = base.replace(arrivals=dataclasses.replace(base.arrivals, leads_per_month=120.0), rules=rules)
    # put the threshold where some leads cross it and some do not
    probe = simulate.run(scenario, seed=case).leads
    if rules.grades is None:
        rules = dataclasses.replace(rules, mql_threshold=float(np.quantile(rules.score(probe), 0.8)))
        scenario = scenario.replace(rules=rules)
    result = simulate.run(scenario, seed=case)
    mql, score = reference_mql(rules, result.leads, result.events, result.as_of)
    got = result.leads["mql_at"].reset_index(drop=True)
    pd.testing.assert_series_equal(got, mql, check_names=False)
    np.testing.assert_allclose(result.leads["score"], score, atol=1e-9)
    if rules.grades is None:
        assert got.notna().any() and got.isna().any()


def test_decay_delays_or_prevents_mqls():
    s = simulate.Scenario(months=3)
    no_decay = s.replace(rules=dataclasses.replace(s.rules, decay_half_life_days=None))
    a, b = simulate.run(s, seed=7).leads, simulate.run(no_decay, seed=7).leads
    # the same leads and events (common random numbers), only the rules differ
    pd.testing.assert_series_equal(a["page_views"], b["page_views"])
    assert (a["mql_at"].notna() <= b["mql_at"].notna()).all()
    both = a["mql_at"].notna() & b["mql_at"].notna()
    assert (a.loc[both, "mql_at"] >= b.loc[both, "mql_at"]).all()
    assert a["mql_at"].notna().sum() < b["mql_at"].notna().sum()
