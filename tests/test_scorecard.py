"""calibrate.Scorecard: truth recovery, the estimator contract, points and rules, validation."""

import dataclasses
import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

import simulate
from calibrate import Scorecard
from calibrate._logistic import hessian, hessian_reference, loss_grad, loss_grad_reference
from calibrate._testing import binned_truth, truth_recovery_data
from calibrate.diagnostics import expected_calibration_error, roc_auc
from calibrate.history import History
from calibrate.labels import SelectionBiasWarning, make_labels
from simulate.rules import Bins, ScoringRules
from simulate.scoring import score_stream
from simulate.table import EVENT_KINDS


# --- truth recovery -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def recovery():
    """A world with no unobserved noise and no bad data, every lead worked at once
    (``calibrate._testing.truth_recovery_data``: 360,000 leads, about 18% win, leads whose
    behaviour stream had ended), 70% to fit on and 30% held out."""
    truth, train, held, p_true = truth_recovery_data(seed=7)
    card = Scorecard().fit(train.X, train.y)
    return truth, train, held, card, p_true


def test_fitted_weights_recover_the_true_ones(recovery):
    """Pearson correlation over all (criterion, value or bin) pairs, unweighted: every bin
    counts once, the rare tail bins included. ``binned_truth`` says how a bin's true effect
    is defined: the mean over its training leads of the true log1p (or log10) term. At this
    size the correlation is 0.993-0.996 across seeds; the issue asks for at least 0.98."""
    truth, train, _, card, _ = recovery
    fitted, true = binned_truth(truth, card, train.X)
    assert fitted.size > 60
    assert np.corrcoef(fitted, true)[0, 1] >= 0.98
    slope = np.polyfit(true, fitted, 1)[0]
    assert 0.9 < slope < 1.1  # no shrinkage or inflation of the effects


def test_auc_is_that_of_the_true_chances(recovery):
    """On held-out leads the fitted AUC is within 0.005 of the AUC of the true chances.

    Both are measured on the same leads, so the sampling noise of the AUC itself mostly
    cancels; what is left is the cost of estimating the weights and of the bins."""
    _, _, held, card, p_true = recovery
    p = card.predict_proba(held.X)[:, 1]
    assert roc_auc(held.y, p_true) - roc_auc(held.y, p) <= 0.005


def test_predictions_are_calibrated(recovery):
    """Expected calibration error (10 equal-weight bins) at most 0.01 on held-out leads.

    A perfect model shows about ``0.8 sqrt(p (1 - p) / n_bin)`` per bin from chance, here
    about 0.004; the true chances themselves are checked as the yardstick."""
    _, _, held, card, p_true = recovery
    p = card.predict_proba(held.X)[:, 1]
    assert expected_calibration_error(held.y, p) <= 0.01
    assert expected_calibration_error(held.y, p_true) <= 0.01
    assert abs(p.mean() - held.y.mean()) < 3 * math.sqrt(held.y.mean() * (1 - held.y.mean()) / len(held))


def test_integer_points_cost_little_auc(recovery):
    _, _, held, card, _ = recovery
    rounded = roc_auc(held.y, card.log_odds(held.X, rounded=True))
    exact = roc_auc(held.y, card.log_odds(held.X, rounded=False))
    assert exact - rounded <= 0.002


def test_rules_score_the_leads_as_the_scorecard_does(recovery):
    _, train, held, card, _ = recovery
    rules = card.rules_
    assert isinstance(rules, simulate.ScoringRules)
    assert set(rules.engagement) == {c for c in simulate.table.BEHAVIOUR_COLUMNS}
    assert "company_size" in rules.fit_numeric and "job_level" in rules.fit
    np.testing.assert_array_equal(rules.score(held.X), card.predict_points(held.X))
    axes = card.points(held.X.head(50))
    np.testing.assert_array_equal(axes["fit"], rules.fit_points(held.X.head(50)))
    np.testing.assert_array_equal(axes["engagement"], rules.engagement_points(held.X.head(50)))
    again = simulate.ScoringRules.from_json(rules.to_json())
    assert again == rules
    # the threshold sits at the training base rate by default
    assert card.probability_for_score(rules.mql_threshold) >= train.y.mean()
    assert card.probability_for_score(rules.mql_threshold - 1) < train.y.mean()


def test_engagement_points_never_fall_with_more_activity(recovery):
    """Every count of this world has a positive true weight, and with 250,000 leads "auto"
    finds each one's sign (z from about 4 for ``early_content_downloads``, weight 0.05, to
    30 for ``demo_requests``): all are constrained non-decreasing, company size too."""
    card = recovery[3]
    evidence = card.monotone_evidence_
    assert (evidence["source"] == "auto").all() and (evidence["z"] >= 3).all()
    for c in card.criteria_:
        if c.axis == "engagement":
            assert card.monotone_[c.name] == c.monotone == 1
            assert np.all(np.diff(c.points[: c.binning.n_bins]) >= 0), c.name
            assert c.points[0] == 0


def test_points_table_is_readable(recovery):
    card = recovery[3]
    table = card.table()
    assert list(table.columns) == [
        "axis",
        "criterion",
        "value",
        "points",
        "log_odds",
        "log_odds_se",
        "share",
        "win_rate",
        "monotone",
    ]
    assert table["points"].dtype.kind == "i"
    assert set(table.loc[table["axis"] == "engagement", "monotone"]) == {1}
    reference = table.groupby("criterion").head(1)  # the lowest bin of a numeric feature
    numeric = reference["criterion"].isin(recovery[3].monotone_evidence_.index)
    assert (reference.loc[numeric, "log_odds_se"] == 0).all()
    assert (table["log_odds_se"] >= 0).all() and (table["log_odds_se"] < 1).all()
    shares = table.groupby("criterion")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)
    demo = table[table["criterion"] == "demo_requests"]
    assert demo["value"].iloc[0] == "0" and demo["value"].iloc[-1].endswith("+")


# --- scaling and reference ---------------------------------------------------------------
def _toy(n=20_000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "job_level": rng.choice(["vp", "manager", "student"], n),
            "company_size": np.round(np.exp(rng.normal(5, 1.2, n))),
            "webinars": rng.poisson(0.5, n),
        }
    )
    logit = -2 + X["job_level"].map({"vp": 1.0, "manager": 0.3, "student": -1.0}).to_numpy()
    logit += 0.4 * np.log10(X["company_size"].to_numpy()) + 0.7 * np.log1p(X["webinars"].to_numpy())
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    return X, y


def test_points_to_double_odds_is_the_scale():
    X, y = _toy()
    a = Scorecard(points_to_double_odds=10).fit(X, y)
    b = Scorecard(points_to_double_odds=40).fit(X, y)
    pa = np.concatenate([c.points for c in a.criteria_])
    pb = np.concatenate([c.points for c in b.criteria_])
    assert np.abs(pb - 4 * pa).max() <= 2  # the same effects, four times the points (+- rounding)
    odds = lambda p: p / (1 - p)  # noqa: E731
    s = 17
    assert odds(a.probability_for_score(s + 10)) / odds(a.probability_for_score(s)) == pytest.approx(2.0)
    assert a.score_for_probability(float(a.probability_for_score(s))) == s


def test_unknown_and_missing_values_get_zero_points_as_in_the_rules():
    X, y = _toy(5_000)
    card = Scorecard().fit(X, y)
    new = pd.DataFrame({"job_level": ["astronaut", None], "company_size": [np.nan, 50.0], "webinars": [0, 0]})
    pts = card.points(new)
    assert pts.loc[0, "job_level"] == 0 and pts.loc[1, "job_level"] == 0
    assert pts.loc[0, "company_size"] == 0  # missing numeric, unseen in training: the lowest bin
    np.testing.assert_array_equal(card.rules_.score(new), card.predict_points(new))


def test_monotone_constraints_hold_both_ways():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.integers(0, 10, 8000), "b": rng.integers(0, 10, 8000)})
    y = rng.random(8000) < 0.3  # no signal: unconstrained steps wobble either way
    card = Scorecard(monotonic_cst={"a": 1, "b": -1}, engagement=[]).fit(X, y)
    a, b = card.criteria_
    assert np.all(np.diff(a.log_odds[: a.binning.n_bins]) >= -1e-12)
    assert np.all(np.diff(b.log_odds[: b.binning.n_bins]) <= 1e-12)


def test_bins_respect_the_minimum_size_and_weights_equal_duplicates():
    X, y = _toy(4000, seed=2)
    card = Scorecard(min_bin_size=0.05).fit(X, y)
    for c in card.criteria_:
        w = c.binning.weights[:-1]
        assert (w[w > 0] >= 0.05 * len(X) - 1e-9).all(), c.name
    w = np.random.default_rng(4).integers(0, 3, len(X))
    weighted = Scorecard().fit(X, y, sample_weight=w)
    repeated = Scorecard().fit(X.loc[X.index.repeat(w)], np.repeat(y, w))
    np.testing.assert_allclose(weighted.log_odds(X, rounded=False), repeated.log_odds(X, rounded=False), atol=1e-6)


def test_grades_never_pass_a_lead_the_single_threshold_would_not():
    X, y = _toy(10_000, seed=5)
    card = Scorecard().fit(X, y)
    single = card.to_rules(threshold=25)
    graded = card.to_rules(threshold=25, grades=4)
    assert graded.grades is not None and len(graded.grades.engagement_thresholds) == 4
    assert not np.any(graded.is_mql(X) & ~single.is_mql(X))
    assert graded.is_mql(X).sum() > 0


# --- agreement with slow references -------------------------------------------------------
def test_kernels_agree_with_numpy():
    rng = np.random.default_rng(0)
    for n, f, t in [(1, 1, 3), (50, 3, 12), (70_001, 4, 40)]:
        k = t // f  # each feature has its own block of table entries, as in a fit
        codes = (rng.integers(0, k, size=(n, f)) + k * np.arange(f)).astype(np.int32)
        table, y, w = rng.normal(size=t), (rng.random(n) < 0.3).astype(float), rng.random(n)
        a, b = loss_grad(codes, table, 0.3, y, w), loss_grad_reference(codes, table, 0.3, y, w)
        assert a[0] == pytest.approx(b[0], rel=1e-10)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-9, atol=1e-9)
        assert a[2] == pytest.approx(b[2], rel=1e-9, abs=1e-9)
        if n < 100:
            np.testing.assert_allclose(
                hessian(codes, table, 0.3, w),
                hessian_reference(codes, table, 0.3, w),
                rtol=1e-10,
                atol=1e-12,
            )


def test_solver_matches_logistic_regression_on_categories():
    """With only categorical features and no constraint, the fit is the L2 logistic regression
    of scikit-learn on the one-hot columns (same penalty convention, intercept free)."""
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame({"a": rng.choice(list("pqrs"), n), "b": rng.choice(list("xyz"), n)})
    y = rng.random(n) < 1 / (1 + np.exp(-(X["a"].map(dict(p=-1, q=0, r=0.5, s=1.0)) - 0.5)))
    card = Scorecard(C=0.05, min_bin_size=0.0, integer_points=False, tol=1e-10).fit(X, y)
    onehot = pd.get_dummies(X).astype(float)
    ref = LogisticRegression(C=0.05, tol=1e-12, max_iter=10_000).fit(onehot, y)
    np.testing.assert_allclose(card.log_odds(X), ref.decision_function(onehot), atol=1e-6)


# --- the scikit-learn contract ------------------------------------------------------------
@parametrize_with_checks([Scorecard()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_works_in_pipeline_clone_and_cross_validation():
    X, y = _toy(6000, seed=6)
    pipe = make_pipeline(FunctionTransformer(lambda d: d.assign(big=d["company_size"] > 500)), Scorecard())
    scores = cross_val_score(pipe, X, y, cv=3, scoring="roc_auc")
    assert scores.min() > 0.6
    copy = clone(Scorecard(points_to_double_odds=20, C=0.5))
    assert copy.get_params()["points_to_double_odds"] == 20
    assert not hasattr(copy, "rules_")


def test_string_labels_and_array_input():
    X, y = _toy(3000, seed=7)
    labels = np.where(y, "won", "lost")
    card = Scorecard().fit(X, labels)
    assert list(card.classes_) == ["lost", "won"]
    assert set(card.predict(X)) <= {"lost", "won"}
    numeric = Scorecard().fit(X[["company_size", "webinars"]].to_numpy(), y)
    assert [c.name for c in numeric.criteria_] == ["x0", "x1"]


# --- validation ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"max_bins": 1}, r"Scorecard.max_bins must be an integer >= 2, got 1"),
        ({"min_bin_size": 0.7}, r"Scorecard.min_bin_size must be in \[0, 0.5\), got 0.7"),
        ({"C": 0}, r"Scorecard.C must be > 0, got 0"),
        ({"points_to_double_odds": -5}, r"Scorecard.points_to_double_odds must be > 0, got -5"),
        ({"mql_probability": 1.5}, r"Scorecard.mql_probability must be in \(0, 1\), got 1.5"),
        (
            {"engagement": ["nope"]},
            r"Scorecard.engagement names 'nope', which is not a column of X",
        ),
        ({"engagement": ["job_level"]}, r"engagement feature 'job_level' must be numeric"),
        (
            {"monotonic_cst": {"job_level": 1}},
            r"monotonic_cst\['job_level'\]: only numeric features can be monotone",
        ),
        (
            {"monotonic_cst": {"webinars": 2}},
            r"monotonic_cst\['webinars'\] must be 1, -1 or 0, got 2",
        ),
        (
            {"monotonic_cst": "up"},
            r"Scorecard.monotonic_cst must be 'auto', 'engagement', None or a mapping",
        ),
    ],
)
def test_bad_parameters_are_named(params, message):
    X, y = _toy(500)
    with pytest.raises(ValueError, match=message):
        Scorecard(**params).fit(X, y)


def test_bad_data_is_named():
    X, y = _toy(500)
    card = Scorecard().fit(X, y)
    bad = X.head(5).astype({"company_size": object})
    bad.loc[3, "company_size"] = "lots"
    with pytest.raises(ValueError, match=r"column 'company_size' must be numeric, got 'lots' in row 3"):
        card.predict_proba(bad)
    with pytest.raises(ValueError, match=r"Only binary classification is supported"):
        Scorecard().fit(X, np.arange(len(X)) % 3)
    with pytest.raises(ValueError, match=r"y holds one class only"):
        Scorecard().fit(X, np.ones(len(X), dtype=bool))
    with pytest.raises(ValueError, match=r"sample_weight must be finite and >= 0, got -1.0 in row 2"):
        Scorecard().fit(X, y, sample_weight=np.r_[1, 1, -1, np.ones(len(X) - 3)])
    with_time = X.assign(created_at=pd.Timestamp("2026-01-01", tz="UTC"))
    with pytest.raises(TypeError, match=r"column 'created_at' holds timestamps"):
        Scorecard().fit(with_time, y)
    with pytest.raises(ValueError, match=r"X has 3 features, but Scorecard is expecting 2 features"):
        Scorecard().fit(X[["company_size", "webinars"]].to_numpy(), y).predict(X.to_numpy())


def test_a_stalled_solver_warns():
    X, y = _toy(2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Scorecard(max_iter=1).fit(X, y)
    assert any("without converging" in str(w.message) for w in caught)


def test_rules_json_is_plain(recovery):
    text = recovery[3].rules_.to_json()
    data = json.loads(text)
    assert data["format"].startswith("leadfunnel.scoring_rules/")


# --- monotone only where the sign is known --------------------------------------------------
def _labelled_world(seed: int, *, truth=None, bad_data: bool = True):
    """A small simulated year, labelled with the counts as they stood at each lead's clock
    start (``make_labels(..., events=run.events)``): 10,000 leads a month and 13 reps (the
    default 3,000 and 4, scaled, so the queue keeps up), about 15,000 judged leads."""
    s = simulate.Scenario()
    s = s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=10_000),
        team=s.team.with_size(13),
        truth=truth or s.truth,
    )
    if not bad_data:
        s = s.replace(
            population=dataclasses.replace(s.population, bad_data_share=dict.fromkeys(s.population.bad_data_share, 0.0))
        )
    run = simulate.run(s, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SelectionBiasWarning)  # only MQLs were worked
        return make_labels(History.from_run(run), events=run.events)


@pytest.fixture(scope="module")
def signed():
    """A world where one count costs: ``email_clicks`` weighs -0.6 per log1p(click),
    ``pricing_page_views`` +0.8; no bad contact data (leads with a bad e-mail address click
    no e-mails and never buy, which would lend e-mail clicks a positive sign of their own);
    no unobserved noise and truth intercept -4 (about 17% of the judged leads win).

    ``early_content_downloads`` weighs 0, but at a lead's MQL moment a count of weight 0 still
    says how long the lead took to get there (measured z of -1 to -3.4 over four seeds), so
    the pure-noise count is that column shuffled across the leads. ``min_bin_size=0.05``
    keeps the top bin of a count heavy enough for its standard error to say something."""
    t = simulate.Scenario().truth
    weights = {**t.behaviour_weights, "email_clicks": -0.6, "pricing_page_views": 0.8, "early_content_downloads": 0.0}
    truth = dataclasses.replace(t, behaviour_weights=weights, intercept=-4.0, noise_sd=0.0)
    labels = _labelled_world(0, truth=truth, bad_data=False)
    X = labels.X.copy()
    X["early_content_downloads"] = np.random.default_rng(0).permutation(X["early_content_downloads"].to_numpy())
    card = Scorecard(min_bin_size=0.05).fit(X, labels.y, labels.sample_weight)
    return X, labels, card


def _criterion(card, name):
    return next(c for c in card.criteria_ if c.name == name)


def test_a_negative_behaviour_effect_gets_falling_points(signed):
    """Over four seeds the rank trend of e-mail clicks has z between -4.5 and -6.9, and its
    top bin sits 3.7 to 6.4 standard errors below its lowest; the tolerance is 3 of the
    fit's own standard errors (``log_odds_se``, constraints ignored: conservative)."""
    X, _, card = signed
    c = _criterion(card, "email_clicks")
    k = c.binning.n_bins
    assert card.monotone_["email_clicks"] == c.monotone == -1
    row = card.monotone_evidence_.loc["email_clicks"]
    assert row["source"] == "auto" and row["z"] <= -3
    assert c.log_odds[k - 1] < -3 * c.log_odds_se[k - 1]
    assert np.all(np.diff(c.points[:k]) <= 0) and c.points[k - 1] < 0
    bins = card.rules_.engagement["email_clicks"]
    assert min(bins.points) < 0 and np.all(np.diff(bins.points) <= 0)
    np.testing.assert_array_equal(card.rules_.score(X), card.predict_points(X))
    old = Scorecard(monotonic_cst="engagement", min_bin_size=0.05).fit(X, signed[1].y)
    assert _criterion(old, "email_clicks").points.min() >= 0  # what the issue measured


def test_a_positive_effect_with_strong_evidence_is_constrained_non_decreasing(signed):
    _, _, card = signed
    c = _criterion(card, "pricing_page_views")
    row = card.monotone_evidence_.loc["pricing_page_views"]
    assert row["z"] >= 3 and row["monotone"] == c.monotone == 1  # measured z 6.5 to 8.4
    assert np.all(np.diff(c.log_odds[: c.binning.n_bins]) >= -1e-12)
    assert c.points[c.binning.n_bins - 1] > 0


def test_a_pure_noise_count_is_free_and_near_zero(signed):
    _, _, card = signed
    c = _criterion(card, "early_content_downloads")
    k = c.binning.n_bins
    assert abs(card.monotone_evidence_.loc["early_content_downloads", "z"]) < 3
    assert card.monotone_["early_content_downloads"] == 0
    assert np.all(np.abs(c.log_odds[:k]) <= 3 * c.log_odds_se[:k])


def test_negative_engagement_points_survive_the_rules_and_the_stream(signed):
    """Rules with points that fall with activity: JSON round trip, and ``score_stream``
    scores each event as it comes (a click before the demo request costs the MQL)."""
    rules = signed[2].rules_
    assert simulate.ScoringRules.from_json(rules.to_json()) == rules
    assert rules.score_min < 0 or min(rules.engagement["email_clicks"].points) >= rules.score_min
    hand = ScoringRules(
        engagement={
            "email_clicks": Bins(edges=(1, 2), points=(0, -5, -10)),
            "demo_requests": Bins(edges=(1,), points=(0, 30)),
        },
        score_min=-50,
        mql_threshold=50,
    )
    assert simulate.ScoringRules.from_json(hand.to_json()) == hand
    click, demo = EVENT_KINDS.index("email_click"), EVENT_KINDS.index("demo_request")
    # lead 0: click, demo (25 - 5 + 30 = 50); lead 1: click, click, demo (25 - 10 + 30 = 45)
    mql, score, mql_score = score_stream(
        hand,
        np.array([25.0, 25.0]),
        np.array([0.0, 0.0]),
        np.array([0, 2, 5]),
        np.array([10.0, 20.0, 10.0, 15.0, 20.0]),
        np.array([click, demo, click, click, demo]),
        100.0,
    )
    np.testing.assert_array_equal(score, [50.0, 45.0])
    assert mql[0] == 20.0 and mql_score[0] == 50.0 and np.isnan(mql[1])
    leads = pd.DataFrame({"email_clicks": [1, 2], "demo_requests": [1, 1]})
    np.testing.assert_array_equal(hand.score(leads), [25.0, 20.0])  # no fit column: 0 fit points


def test_auto_costs_no_auc_on_the_default_world():
    """The default truth, held-out newer leads: "auto" against "engagement". Its paired
    bootstrap standard error of the AUC difference (200 resamples) is about 0.009; over four
    seeds the difference was -0.003 to +0.003 (the default world's counts all weigh
    positive, so the old constraint was right there, and "auto" constrains little in a
    world this small: the evidence at the MQL moment is weak)."""
    train, held = _labelled_world(0).split_by_time(test_share=0.3)
    p = {
        m: Scorecard(monotonic_cst=m).fit(train.X, train.y, train.sample_weight).predict_proba(held.X)[:, 1]
        for m in ("auto", "engagement")
    }
    diff = roc_auc_score(held.y, p["auto"]) - roc_auc_score(held.y, p["engagement"])
    rng = np.random.default_rng(0)
    boot = []
    for _ in range(200):
        i = rng.integers(0, len(held.y), len(held.y))
        boot.append(roc_auc_score(held.y[i], p["auto"][i]) - roc_auc_score(held.y[i], p["engagement"][i]))
    # not worse beyond chance: a one-sided test at two standard errors (2.3% false alarms)
    assert diff >= -2 * np.std(boot)


def test_user_constraints_override_auto_per_feature():
    X, y = _toy()
    auto = Scorecard().fit(X, y)
    assert auto.monotone_ == {"job_level": 0, "company_size": 1, "webinars": 1}
    assert list(auto.monotone_evidence_.index) == ["company_size", "webinars"]
    assert (auto.monotone_evidence_["z"] > 3).all()
    card = Scorecard(monotonic_cst={"webinars": -1}).fit(X, y)
    assert card.monotone_ == {"job_level": 0, "company_size": 1, "webinars": -1}
    ev = card.monotone_evidence_
    assert ev.loc["webinars", "source"] == "user" and np.isnan(ev.loc["webinars", "z"])
    assert ev.loc["company_size", "source"] == "auto" and ev.loc["company_size", "z"] > 3
    w = _criterion(card, "webinars")
    assert np.all(np.diff(w.log_odds[: w.binning.n_bins]) <= 1e-12)
    free = Scorecard(monotonic_cst=None).fit(X, y)
    assert set(free.monotone_.values()) == {0} and (free.monotone_evidence_["source"] == "none").all()
    old = Scorecard(monotonic_cst="engagement").fit(X, y)
    assert old.monotone_ == {"job_level": 0, "company_size": 0, "webinars": 1}
    assert clone(Scorecard(monotonic_cst={"webinars": 0})).get_params()["monotonic_cst"] == {"webinars": 0}
    assert Scorecard().get_params()["monotonic_cst"] == "auto"


def test_no_evidence_leaves_features_free():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"page_views": rng.integers(0, 10, 8000), "b": rng.integers(0, 10, 8000)})
    y = rng.random(8000) < 0.3
    card = Scorecard().fit(X, y)
    assert card.monotone_ == {"page_views": 0, "b": 0}
    assert (card.monotone_evidence_["z"].abs() < 3).all()
