"""CRM scoring exports (HubSpot rule set, criteria CSV, points table): read back by a tiny
evaluator written here from the documented operators, they score leads as the card does."""

import csv
import json
import math

import numpy as np
import pandas as pd
import pytest

import simulate
from calibrate import Recommendation, Scorecard, points_table, to_criteria_csv, to_hubspot
from calibrate.recommendation import Estimate
from simulate.rules import Bins, Grades, ScoringRules


@pytest.fixture(scope="module")
def leads():
    """Toy leads with blanks in a category and a number, and a category value that starts
    like a spreadsheet formula."""
    rng = np.random.default_rng(3)
    n = 8000
    job = rng.choice(["vp", "director", "manager", "student", "=cmd"], n).astype(object)
    job[rng.random(n) < 0.1] = None
    size = np.round(np.exp(rng.uniform(1, 9, n)))
    size[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"job_level": job, "company_size": size, "page_views": rng.poisson(2, n)})
    effect = pd.Series(job).map({"vp": 1.0, "director": 0.6, "manager": 0.2, "student": -1.0}).fillna(-0.4)
    logit = -2 + effect + 0.25 * np.log(np.nan_to_num(size, nan=30.0)) - 1 + 0.2 * np.minimum(X["page_views"], 5)
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return X, y


@pytest.fixture(scope="module")
def cards(leads):
    X, y = leads
    return {"full": Scorecard().fit(X, y), "sparse": Scorecard(max_rules=8).fit(X, y)}


# --- the independent reader -----------------------------------------------------------------
def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _matches(operator: str, value, x) -> bool:
    if operator == "IS_UNKNOWN":
        return _missing(x)
    if _missing(x):
        return False
    if operator == "EQ":
        return str(x) == value
    if operator == "IS_ANY_OF":
        return str(x) in value
    x = float(x)
    if operator == "LT":
        return x < float(value)
    if operator == "GTE":
        return x >= float(value)
    if operator == "GTE_AND_LT":
        return float(value[0]) <= x < float(value[1])
    assert operator == "IS_KNOWN", operator
    return True


def _unescape(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@") else text


def read_csv_rules(path):
    """(field, operator, value, points) from the criteria CSV, values parsed per operator."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ["field", "operator", "value", "points"]
        for row in reader:
            op, value = row["operator"], _unescape(row["value"])
            parts = [_unescape(v) for v in value.split(";")]
            parsed = {"IS_ANY_OF": parts, "GTE_AND_LT": parts}.get(op, value)
            out.append((row["field"], op, parsed, int(row["points"])))
    return out


def read_hubspot_rules(path):
    """(field, filters, points) per rule of the HubSpot rule set, and the score limits."""
    data = json.loads(open(path, encoding="utf-8").read())
    rules = []
    for group in data["groupConfigs"]:
        for rule in group["ruleConfigurations"]:
            assert rule["configuration"]["calculation"]["type"] == "CONSTANT"
            rules.append(
                (group["groupName"], rule["configuration"]["filters"], rule["configuration"]["calculation"]["value"])
            )
    meta = data["leadfunnel"]
    return rules, meta["score_min"], meta["score_max"]


def _hubspot_filter(f, x) -> bool:
    op = f["operator"]
    if op == "NOT_HAS_PROPERTY":
        return _missing(x)
    if _missing(x):
        return False
    if op == "HAS_PROPERTY":
        return True
    if op == "EQ":
        return str(x) == f["value"]
    if op == "IN":
        return str(x) in f["values"]
    return float(x) < f["value"] if op == "LT" else float(x) >= f["value"]


def score_csv(rules, X: pd.DataFrame) -> np.ndarray:
    return np.array(
        [sum(p for field, op, v, p in rules if _matches(op, v, lead[field])) for lead in X.to_dict("records")]
    )


def score_hubspot(X: pd.DataFrame, rules, low, high) -> np.ndarray:
    total = [
        sum(p for field, filters, p in rules if all(_hubspot_filter(f, lead[field]) for f in filters))
        for lead in X.to_dict("records")
    ]
    return np.clip(total, low, high)


# --- the tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["full", "sparse"])
def test_exports_score_the_leads_as_the_card(cards, leads, which, tmp_path):
    X, _ = leads
    card = cards[which]
    to_criteria_csv(card, tmp_path / "criteria.csv")
    to_hubspot(card, tmp_path / "hubspot.json")
    expected = card.predict_points(X)
    np.testing.assert_array_equal(score_csv(read_csv_rules(tmp_path / "criteria.csv"), X), expected)
    np.testing.assert_array_equal(score_hubspot(X, *read_hubspot_rules(tmp_path / "hubspot.json")), expected)
    assert len(points_table(card)) == len(read_csv_rules(tmp_path / "criteria.csv"))


def test_a_recommendations_rules_export_as_its_rules_score(cards, leads, tmp_path):
    """From a ``Recommendation``: its own rules (here the default hand-set ones, whose score
    is clipped to 0..100; the HubSpot set carries the limits)."""
    X, _ = leads
    rules = simulate.scenario.default_rules()
    rec = Recommendation(
        rules=rules,
        threshold=60.0,
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": 0.9},
        expected={"mqls_per_month": Estimate(120.0, 100.0, 140.0)},
        seed=7,
        data_fingerprint="sha256:" + "ab" * 32,
        history={"leads": 300},
    )
    table = X.assign(**{c: 1 for c in rules.columns if c not in X})
    table["job_level"] = table["job_level"].replace({"=cmd": "c_level"})
    to_hubspot(rec, tmp_path / "h.json")
    to_criteria_csv(rec, tmp_path / "c.csv")
    np.testing.assert_array_equal(score_hubspot(table, *read_hubspot_rules(tmp_path / "h.json")), rules.score(table))
    raw = rules.fit_points(table) + rules.engagement_points(table)
    np.testing.assert_array_equal(score_csv(read_csv_rules(tmp_path / "c.csv"), table), raw)


def test_hubspot_shape_and_round_values(cards, tmp_path):
    data = to_hubspot(cards["sparse"], tmp_path / "h.json", name="MQL score")
    assert data == json.loads((tmp_path / "h.json").read_text())
    assert {"name", "objectTypeId", "maxScore", "groupConfigs"} <= set(data)
    assert {g["groupCategory"] for g in data["groupConfigs"]} <= {"FIT", "ENGAGEMENT"}
    sizes = [
        f["value"]
        for g in data["groupConfigs"]
        if g["groupName"] == "company_size"
        for r in g["ruleConfigurations"]
        for f in r["configuration"]["filters"]
        if "value" in f
    ]
    assert sizes and all(isinstance(v, int) for v in sizes)


def test_markdown_table():
    rules = ScoringRules(
        fit={"job_level": {"vp": 10, "c_level": 10, "student": 0}},
        engagement={"demo_requests": Bins(edges=(1.0,), points=(0, 30), missing=-5)},
    )
    text = points_table(rules, markdown=True)
    lines = text.splitlines()
    assert len(lines) == 2 + 3 and "student" not in text
    assert "is any of vp, c_level" in text and "1 or more" in text and "blank" in text


def test_existing_files_are_refused_unless_overwrite(cards, tmp_path):
    for export, name in ((to_hubspot, "h.json"), (to_criteria_csv, "c.csv")):
        path = tmp_path / name
        path.write_text("the user's file\n")
        with pytest.raises(FileExistsError, match=name):
            export(cards["sparse"], path)
        assert path.read_text() == "the user's file\n"
        export(cards["sparse"], path, overwrite=True)
        assert path.read_text() != "the user's file\n"


def test_two_axis_rules_and_other_objects_are_refused():
    graded = ScoringRules(grades=Grades(fit_edges=(10.0,), engagement_thresholds=(50.0, 20.0)))
    with pytest.raises(ValueError, match="two axes"):
        to_criteria_csv(graded)
    with pytest.raises(TypeError, match="ScoringRules, a fitted Scorecard or a Recommendation"):
        to_hubspot({"fit": {}})
