"""calibrate.diagnostics and calibrate.plotting: the figures against slow references, and plots."""

import dataclasses
import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

import simulate  # noqa: E402
from calibrate import Scorecard, make_labels, plotting  # noqa: E402
from calibrate._testing import history_with_outcomes  # noqa: E402
from calibrate.diagnostics import (  # noqa: E402
    backtest,
    brier_score,
    evaluate,
    expected_calibration_error,
    funnel_conversion,
    gains_table,
    population_stability,
    reliability_curve,
    roc_auc,
    stability_table,
)

pytestmark = pytest.mark.filterwarnings("ignore::calibrate.SelectionBiasWarning")


def _auc_by_pairs(y, p):
    """The AUC's definition, pair by pair (slow, obviously right)."""
    pos, neg = p[y], p[~y]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return (greater + 0.5 * ties) / (pos.size * neg.size)


def test_auc_and_brier_agree_with_their_definitions():
    rng = np.random.default_rng(0)
    for n in (5, 40, 300):
        y = rng.random(n) < 0.4
        y[:2] = [True, False]
        p = np.round(rng.random(n), 1)  # with ties
        assert roc_auc(y, p) == pytest.approx(_auc_by_pairs(y, p))
        assert brier_score(y, p) == pytest.approx(np.mean((p - y) ** 2))


def test_reliability_curve_against_a_slow_reference():
    rng = np.random.default_rng(1)
    p = rng.random(1000)
    y = rng.random(1000) < p
    w = rng.integers(1, 4, 1000).astype(float)
    curve = reliability_curve(y, p, n_bins=4, sample_weight=w)
    order = np.argsort(p)
    cum = np.cumsum(w[order]) - w[order] / 2
    bins = np.empty(1000, int)
    bins[order] = np.minimum((cum / w.sum() * 4).astype(int), 3)
    for b in range(4):
        m = bins == b
        row = curve.iloc[b]
        assert row["weight"] == pytest.approx(w[m].sum())
        assert row["mean_predicted"] == pytest.approx(np.average(p[m], weights=w[m]))
        assert row["observed"] == pytest.approx(np.average(y[m], weights=w[m]))
        assert row["observed_low"] <= row["observed"] <= row["observed_high"]
    ece = expected_calibration_error(y, p, n_bins=4, sample_weight=w)
    assert ece == pytest.approx(np.sum(curve["weight"] * np.abs(curve["mean_predicted"] - curve["observed"])) / w.sum())


def test_calibration_error_is_chance_level_for_true_chances_and_large_when_off():
    """A calibrated model's ECE with 10 bins of n leads is about ``0.8 sqrt(p(1-p)/n)``; the
    bound used is four times that."""
    rng = np.random.default_rng(2)
    n = 100_000
    p = rng.beta(1, 8, n)
    y = rng.random(n) < p
    chance = 0.8 * math.sqrt(p.mean() * (1 - p.mean()) / (n / 10))
    assert expected_calibration_error(y, p) < 4 * chance
    assert expected_calibration_error(y, np.minimum(2 * p, 1)) > 0.05
    assert expected_calibration_error(y, p, strategy="uniform") < 4 * chance * 3


def test_gains_and_lift():
    rng = np.random.default_rng(3)
    p = rng.beta(1, 5, 20_000)
    y = rng.random(20_000) < p
    g = gains_table(y, p)
    assert g["bin"].tolist() == list(range(1, 11))
    assert np.all(np.diff(g["gains"]) >= 0) and g["gains"].iloc[-1] == pytest.approx(1.0)
    assert np.all(np.diff(g["win_rate"]) <= 0.01)  # best bins first
    assert np.average(g["lift"], weights=g["leads"]) == pytest.approx(1.0)
    assert g["cumulative_lift"].iloc[-1] == pytest.approx(1.0)
    assert g["share_of_leads"].iloc[-1] == pytest.approx(1.0)
    e = evaluate(y, p)
    assert e.summary()["top_decile_lift"] == pytest.approx(g["lift"].iloc[0])


def test_population_stability():
    a = np.r_[np.zeros(500), np.ones(500)]
    b = np.r_[np.zeros(250), np.ones(750)]
    s = population_stability(a.astype(str), b.astype(str))
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert s.psi == pytest.approx(expected)
    assert population_stability(a, a).psi == pytest.approx(0.0)
    rng = np.random.default_rng(4)
    x = rng.normal(size=20_000)
    assert population_stability(x, rng.normal(size=20_000)).verdict == "stable"
    assert population_stability(x, rng.normal(1.0, 1, size=20_000)).verdict == "major shift"
    withnan = population_stability(np.r_[x, np.nan], np.r_[x, [np.nan] * 100])
    assert "(missing)" in set(withnan.table["bin"])
    table = stability_table(pd.DataFrame({"a": x, "b": x}), pd.DataFrame({"a": x, "b": x + 1}))
    assert table["column"].tolist() == ["b", "a"] and table["verdict"].tolist() == [
        "major shift",
        "stable",
    ]


@pytest.fixture(scope="module")
def labelled():
    s = simulate.Scenario()
    s = s.replace(
        arrivals=dataclasses.replace(s.arrivals, leads_per_month=8000),
        truth=dataclasses.replace(s.truth, intercept=-6.0),
    )
    result = simulate.run(s, seed=31)
    history = history_with_outcomes(result, rng=4, worked="all", outcomes="truth")
    return result, history, make_labels(history, horizon_days=60)


def test_out_of_time_backtest(labelled):
    _, _, labels = labelled
    bt = backtest(Scorecard(), labels, test_share=0.3)
    assert bt.train_period[1] < bt.test_period[0]
    assert bt.n_train + bt.n_test == len(labels)
    assert bt.n_test == pytest.approx(0.3 * len(labels), rel=0.02)
    assert abs(bt.test.auc - bt.train.auc) < 0.03  # the same world all year: it holds up
    assert bt.test.ece < 0.02
    assert bt.score_stability.psi < 0.1
    assert set(bt.feature_stability["column"]) == set(labels.X.columns)
    assert list(bt.summary().columns) == ["train", "test"]
    at = labels.start_at.quantile(0.5)
    half = backtest(Scorecard(), labels, at=at)
    assert half.test_period[0] >= at > half.train_period[1]


def test_funnel_conversion_counts_stages(labelled):
    _, history, _ = labelled
    conv = funnel_conversion(history.leads)
    assert conv["stage"].tolist()[:2] == ["created", "mql"]
    assert conv["leads"].iloc[0] == len(history.leads)
    reached_mql = history.leads[["mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at"]].notna().any(axis=1)
    assert conv["leads"].iloc[1] == reached_mql.sum()
    assert np.all(np.diff(conv["leads"]) <= 0)
    np.testing.assert_allclose(
        conv["from_previous"].iloc[1:],
        conv["leads"].iloc[1:].to_numpy() / conv["leads"].iloc[:-1].to_numpy(),
    )
    monthly = funnel_conversion(history.leads, by="month")
    assert monthly.groupby("stage", sort=False)["leads"].sum().iloc[0] == len(history.leads)
    assert monthly["month"].nunique() == 12


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"ROC AUC needs both wins and losses"):
        roc_auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match=r"y has 2 values but the predictions have 3"):
        brier_score([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"predicted chances must be in \[0, 1\], got 1.5 at position 1"):
        expected_calibration_error([0, 1], [0.1, 1.5])
    with pytest.raises(ValueError, match=r"strategy must be 'quantile' or 'uniform', got 'kmeans'"):
        reliability_curve([0, 1], [0.1, 0.5], strategy="kmeans")
    with pytest.raises(KeyError, match=r"funnel_conversion needs the column 'created_at'"):
        funnel_conversion(pd.DataFrame({"mql_at": [pd.NaT]}))


def test_plots_take_and_return_axes(labelled):
    _, history, labels = labelled
    bt = backtest(Scorecard(), labels)
    p = bt.estimator.predict_proba(labels.X)[:, 1]
    e = evaluate(labels.y, p)
    calls = [
        lambda ax: plotting.plot_reliability(e, ax=ax),
        lambda ax: plotting.plot_reliability(e.reliability, ax=ax, label="all"),
        lambda ax: plotting.plot_gains(e, ax=ax),
        lambda ax: plotting.plot_lift(e.gains, ax=ax),
        lambda ax: plotting.plot_roc(labels.y, p, ax=ax, label="scorecard"),
        lambda ax: plotting.plot_points(bt.estimator, ax=ax, axis="fit"),
        lambda ax: plotting.plot_points(bt.estimator.table(), ax=ax),
        lambda ax: plotting.plot_stability(bt.score_stability, ax=ax),
        lambda ax: plotting.plot_stability(bt.feature_stability, ax=ax),
        lambda ax: plotting.plot_funnel(funnel_conversion(history.leads), ax=ax),
        lambda ax: plotting.plot_backtest(bt, ax=ax),
    ]
    for call in calls:
        fig, ax = plt.subplots()
        assert call(ax) is ax
        assert ax.has_data()
        plt.close(fig)
    before = len(plt.get_fignums())
    ax = plotting.plot_gains(e)
    assert isinstance(ax, Axes) and len(plt.get_fignums()) == before + 1
    plt.close("all")


def test_compute_modules_do_not_import_matplotlib():
    import subprocess
    import sys

    code = (
        "import sys, calibrate, calibrate.diagnostics, calibrate.scorecard, calibrate.labels, "
        "calibrate.history; print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
