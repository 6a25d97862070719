"""Fitting scoring points: ``calibrate.Scorecard`` on a million simulated leads, side by side
with optbinning's ``Scorecard`` (binning plus logistic regression), and on real data.

Targets (issue 4): fit 1 million leads x about 30 features in under 20 s; against optbinning
on the same data, the same or better held-out AUC and at least 2.8 times faster; on the real
X Education leads (read from ``../shared/data/x-education-leads`` when present), held-out
AUC, calibration and the points table, with and without the columns the leakage guard
refuses.

The data: the default world scaled to about a million leads, run for 16 months, keeping the
first million leads whose behaviour stream had ended (created 120 days or more before the
end), so the counts are the whole-stream counts the truth's chances use; every lead's
outcome is drawn from its true chance to buy (as if every lead had been worked). 30
features: the lead table's 15 (source, lead type, 4 fit attributes, company size, 8 behaviour
counts) plus 15 derived from the behaviour stream (the 8 counts in the lead's first week,
events in all, days active, days to the first event, the deepest buyer-journey stage reached,
local hour and weekday of creation) and the old rules' score. Train on the older 70% of
leads, test on the newer 30% (out of time). The truth-recovery rows repeat the figures
``tests/test_scorecard.py`` asserts (``calibrate._testing.truth_recovery_data``).

Times are the best of two runs, for both sides. Run: ``python -m bench scorecard`` (the
figures), or ``python -m bench.bench_scorecard --tables`` (also the X Education refused
columns, reliability and points table; ``--quick`` for 100,000 simulated leads). optbinning
is an optional benchmark-only dependency (``pip install optbinning``); without it the peer
columns say so.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

import calibrate
import simulate
from bench._table import Row, print_table
from calibrate import diagnostics
from simulate.table import BEHAVIOUR_COLUMNS, EVENT_KINDS, KIND_STAGE

X_EDUCATION = Path(__file__).resolve().parents[2] / "shared" / "data" / "x-education-leads" / "Leads.csv"


def simulated_leads(n_leads: int = 1_000_000, seed: int = 1) -> tuple[pd.DataFrame, np.ndarray, pd.Series]:
    """``(X, y, created_at)`` for ``n_leads`` simulated leads, oldest first (module docstring).

    The world runs 16 months and only leads created at least ``max_active_days`` before its
    end are kept, so every lead's behaviour stream is complete (the truth's chances use the
    whole stream); the first ``n_leads`` of them are returned.
    """
    s = simulate.Scenario(months=16)
    per_month = n_leads / (16 - s.behaviour.max_active_days / 30.4) * 1.02
    s = s.replace(arrivals=dataclasses.replace(s.arrivals, leads_per_month=per_month, campaigns=()))
    result = simulate.run(s, seed=seed)
    ended = result.leads["created_at"] < result.as_of - pd.Timedelta(days=s.behaviour.max_active_days)
    if ended.sum() < n_leads:
        raise RuntimeError(f"simulated {int(ended.sum()):,} leads with ended streams, wanted {n_leads:,}")
    leads = result.leads.iloc[:n_leads]
    events = result.events[result.events["lead_id"] <= leads["lead_id"].iloc[-1]]
    X = leads[
        ["source", "lead_type", "job_level", "industry", "region", "email_domain", "company_size", *BEHAVIOUR_COLUMNS]
    ].copy()
    row = events["lead_id"].to_numpy() - 1
    created = leads["created_at"].dt.tz_localize(None).to_numpy()
    at = events["at"].dt.tz_localize(None).to_numpy()
    first_week = at < created[row] + np.timedelta64(7, "D")
    kind = events["kind"].cat.codes.to_numpy()
    n, k = len(leads), len(EVENT_KINDS)
    week = np.bincount(row[first_week] * k + kind[first_week], minlength=n * k).reshape(n, k)
    for j, column in enumerate(BEHAVIOUR_COLUMNS):
        X[f"{column}_first_week"] = week[:, j]
    X["events"] = np.bincount(row, minlength=n)
    stage_rank = {"awareness": 1, "consideration": 2, "decision": 3}
    rank = np.asarray([stage_rank[KIND_STAGE[k]] for k in EVENT_KINDS])[kind]
    deepest = np.zeros(n, dtype=np.int64)
    np.maximum.at(deepest, row, rank)
    X["deepest_stage"] = pd.Categorical.from_codes(deepest, ["none", "awareness", "consideration", "decision"])
    first = pd.Series(at).groupby(row).min().reindex(range(n)).to_numpy()
    last = pd.Series(at).groupby(row).max().reindex(range(n)).to_numpy()
    day = np.timedelta64(1, "D")
    X["days_active"] = (last - created) / day
    X["days_to_first_event"] = (first - created) / day
    local = leads["created_at"].dt.tz_convert(s.timezone)
    X["created_hour"] = local.dt.hour
    X["created_weekday"] = local.dt.day_name().astype("category")
    X["score"] = leads["score"]
    rng = np.random.default_rng(seed)
    y = rng.random(n) < result.truth["p_buy"].to_numpy()[:n]
    return X.reset_index(drop=True), y, leads["created_at"].reset_index(drop=True)


def _optbinning_scorecard(X: pd.DataFrame):
    """optbinning's ``Scorecard``: its ``BinningProcess`` (default optimal binning per
    variable) and a scikit-learn ``LogisticRegression``, as its documentation sets it up."""
    from optbinning import BinningProcess
    from optbinning import Scorecard as OptbinningScorecard
    from sklearn.linear_model import LogisticRegression

    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    process = BinningProcess(list(X.columns), categorical_variables=categorical)
    return OptbinningScorecard(
        binning_process=process,
        estimator=LogisticRegression(solver="lbfgs", max_iter=1000),
        scaling_method="min_max",
        scaling_method_params={"min": 0, "max": 100},
    )


def _as_text_categories(X: pd.DataFrame) -> pd.DataFrame:
    """optbinning wants categorical columns as text, not pandas categoricals."""
    out = X.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out


def _timed(fn, repeat: int = 2):
    """The last value and the best time of ``repeat`` runs (other work on the machine only
    ever slows a run down)."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return value, best


def simulated_rows(n: int) -> list[Row]:
    """Fit time on ``n`` leads; held-out figures and the peer on an out-of-time split."""
    X, y, _ = simulated_leads(n)
    calibrate.Scorecard().fit(X.iloc[:5000], y[:5000])  # compile the kernels (cached after)
    _, t_all = _timed(lambda: calibrate.Scorecard().fit(X, y))
    train = np.arange(n) < int(0.7 * n)
    n_train, n_test = int(train.sum()), int((~train).sum())
    X_train, y_train = X[train], y[train]
    ours, t_ours = _timed(lambda: calibrate.Scorecard().fit(X_train, y_train))
    p_ours = ours.predict_proba(X[~train])[:, 1]
    e_ours = diagnostics.evaluate(y[~train], p_ours)
    exact = diagnostics.roc_auc(y[~train], ours.log_odds(X[~train], rounded=False))
    rounding = exact - e_ours.auc
    size = f"{n:,} leads x {X.shape[1]} features"
    split = f"train {n_train:,} older, test {n_test:,} newer"
    rows = [Row("Scorecard fit", size, f"{t_all:.1f} s", "< 20 s", met=t_all < 20)]
    try:
        peer = _optbinning_scorecard(X)
    except ImportError:
        peer = None
    if peer is None:
        rows += [
            Row("Scorecard fit vs optbinning", split, f"{t_ours:.1f} s", ">= 2.8x faster", "optbinning not installed"),
            Row("held-out AUC vs optbinning", split, f"{e_ours.auc:.4f}", ">= optbinning's"),
        ]
    else:
        Xt = _as_text_categories(X)
        Xt_train = Xt[train]
        _, t_peer = _timed(lambda: peer.fit(Xt_train, y_train))
        e_peer = diagnostics.evaluate(y[~train], peer.predict_proba(Xt[~train])[:, 1])
        speed = t_peer / t_ours
        rows += [
            Row(
                "Scorecard fit vs optbinning",
                split,
                f"{t_ours:.1f} s",
                ">= 2.8x faster",
                f"optbinning {t_peer:.1f} s",
                f"{speed:.1f}x faster",
                met=speed >= 2.8,
            ),
            Row(
                "held-out AUC vs optbinning",
                split,
                f"{e_ours.auc:.4f}",
                ">= optbinning's",
                f"optbinning {e_peer.auc:.4f}",
                f"{e_ours.auc - e_peer.auc:+.4f}",
                met=e_ours.auc >= e_peer.auc,
            ),
            Row("held-out calibration error (ECE)", split, f"{e_ours.ece:.4f}", "", f"optbinning {e_peer.ece:.4f}"),
            Row("held-out Brier score", split, f"{e_ours.brier:.5f}", "", f"optbinning {e_peer.brier:.5f}"),
        ]
    rows.append(
        Row(
            "AUC lost to integer points",
            split,
            f"{rounding:.4f}",
            "<= 0.002",
            met=rounding <= 0.002,
        )
    )
    return rows


def x_education(path: Path = X_EDUCATION) -> tuple[list[Row], str]:
    """Held-out AUC, calibration and points on the X Education leads, with and without the
    columns the leakage guard refuses. The export has no dates (every lead gets one created
    date), its outcomes are final (``horizon_days=None``), and the split is a stratified
    random 30% held out, since there is no time to split on."""
    from sklearn.model_selection import train_test_split

    mapping = calibrate.ColumnMapping(
        name="x education",
        columns={"lead_id": "Prospect ID", "source": "Lead Source", "won": "Converted"},
        converters={"source": "snake", "won": "bool"},
        defaults={"lead_type": "new_business", "created_at": "2019-01-01"},
        na_values=("Select",),
        drop=("Lead Number",),
    )
    history = calibrate.load_history(path, mapping=mapping)
    clean = calibrate.make_labels(history, horizon_days=None)
    refused = clean.refused[clean.refused["column"].isin(history.extra_columns)]
    leaky = calibrate.make_labels(history, horizon_days=None, allow=list(refused["column"]))
    train, test = train_test_split(np.arange(len(clean)), test_size=0.3, random_state=0, stratify=clean.y)
    engagement = ["TotalVisits", "Total Time Spent on Website", "Page Views Per Visit"]
    rows, cards = [], {}
    size = f"{len(clean):,} leads, {len(test):,} held out"
    for name, labels in (("without refused columns", clean), ("with refused columns", leaky)):
        card = calibrate.Scorecard(engagement=engagement, monotonic_cst=None)
        card.fit(labels.X.iloc[train], labels.y[train])
        e = diagnostics.evaluate(labels.y[test], card.predict_proba(labels.X.iloc[test])[:, 1])
        cards[name] = (card, e)
        rows.append(
            Row(
                f"X Education AUC, {name}",
                size,
                f"{e.auc:.4f}",
                "report",
                f"{labels.X.shape[1]} features",
                f"ECE {e.ece:.4f}",
            )
        )
    card, e = cards["without refused columns"]
    columns = ["bin", "leads", "mean_predicted", "observed", "observed_low", "observed_high"]
    lines = [
        f"X Education: {history!r}",
        f"refused ({len(refused)} columns):",
        *(f"  {r.column}: {r.reason}" for r in refused.itertuples()),
        "",
        "reliability on held-out leads, without refused columns:",
        e.reliability[columns].round(3).to_string(index=False),
        "",
        "points table (without refused columns):",
        card.table()[["axis", "criterion", "value", "points", "share", "win_rate"]].round(3).to_string(index=False),
    ]
    return rows, "\n".join(lines)


def recovery_rows() -> list[Row]:
    """Truth recovery (issue 4, item 5): the figures ``tests/test_scorecard.py`` asserts."""
    from calibrate._testing import binned_truth, truth_recovery_data

    truth, train, held, p_true = truth_recovery_data(seed=7)
    card = calibrate.Scorecard().fit(train.X, train.y)
    fitted, true = binned_truth(truth, card, train.X)
    p = card.predict_proba(held.X)[:, 1]
    gap = diagnostics.roc_auc(held.y, p_true) - diagnostics.roc_auc(held.y, p)
    ece = diagnostics.expected_calibration_error(held.y, p)
    corr = float(np.corrcoef(fitted, true)[0, 1])
    size = f"{len(train):,} leads fit, {len(held):,} held out"
    return [
        Row(
            "truth recovery: weight correlation",
            f"{fitted.size} bins and values",
            f"{corr:.4f}",
            ">= 0.98",
            met=corr >= 0.98,
        ),
        Row("truth recovery: AUC below true chances", size, f"{gap:.4f}", "<= 0.005", met=gap <= 0.005),
        Row("truth recovery: calibration error", size, f"{ece:.4f}", "<= 0.01", met=ece <= 0.01),
    ]


def rows(quick: bool = False) -> list[Row]:
    """The figures: a million simulated leads (100,000 if ``quick``), truth recovery, then
    X Education."""
    out = simulated_rows(100_000 if quick else 1_000_000) + recovery_rows()
    if X_EDUCATION.exists():
        out += x_education()[0]
    else:
        out.append(Row("X Education", "", "data not present", "report"))
    return out


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    print_table(rows(quick="--quick" in argv))
    if "--tables" in argv and X_EDUCATION.exists():
        print()
        print(x_education()[1])


if __name__ == "__main__":
    main()
