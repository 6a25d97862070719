"""Is the fit honest? Discrimination, calibration, lift, an out-of-time backtest, stability.

Definitions used throughout (``w`` the lead weights, default 1):

- ROC AUC: the chance that a random win is scored above a random loss (ties count half).
- Brier score: ``sum w (p - y)^2 / sum w``.
- Reliability curve: leads sorted by predicted chance into ``n_bins`` bins of equal weight
  (``strategy="quantile"``) or of equal width in ``p`` (``"uniform"``); per bin the mean
  prediction, the observed win rate and its 95% Wilson interval.
- Expected calibration error (ECE): ``sum_b (W_b / W) |mean p_b - win rate_b|`` over those
  bins. Even a perfect model shows some ECE from chance: about ``0.8 sqrt(p (1 - p) / n_b)``
  per bin, so compare with ``expected_calibration_error`` of the true chances when you have
  them.
- Gains and lift: leads sorted by predicted chance, best first, cut into ``n_bins`` bins of
  equal weight; gains is the share of all wins found in the best bins so far, lift the bin's
  win rate over the overall rate.
- Population stability index (PSI) between a reference and a current sample:
  ``sum_b (a_b - e_b) ln(a_b / e_b)`` over bins (quantiles of the reference, or categories),
  with shares floored at 1e-4. Under 0.1 stable, 0.1 to 0.25 a shift, over 0.25 a major shift.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import clone
from sklearn.metrics import log_loss, roc_auc_score

from simulate.table import LIFECYCLE_ORDER, reached_stages


def _prep(y, p, sample_weight, *, any_score: bool = False):
    y = np.asarray(y).astype(float).ravel()
    p = np.asarray(p, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError(f"y has {y.size} values but the predictions have {p.size}")
    if y.size == 0:
        raise ValueError("no leads to evaluate")
    if np.any(~np.isin(y, (0.0, 1.0))):
        raise ValueError("y must hold outcomes 0/1 or True/False")
    if np.any(~np.isfinite(p)):
        raise ValueError(
            f"predictions must be finite, got {p[~np.isfinite(p)][0]} at position "
            f"{int(np.flatnonzero(~np.isfinite(p))[0])}"
        )
    if not any_score and np.any((p < 0) | (p > 1)):
        i = int(np.flatnonzero((p < 0) | (p > 1))[0])
        raise ValueError(f"predicted chances must be in [0, 1], got {p[i]} at position {i}")
    w = np.ones_like(p) if sample_weight is None else np.asarray(sample_weight, dtype=float).ravel()
    if w.shape != p.shape:
        raise ValueError(f"sample_weight has {w.size} values, expected {p.size}")
    return y, p, w


def roc_auc(y: ArrayLike, p: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    """ROC AUC of chances or of any score that ranks the leads (see the module docstring)."""
    y, p, w = _prep(y, p, sample_weight, any_score=True)
    if y.min() == y.max():
        raise ValueError("ROC AUC needs both wins and losses")
    return float(roc_auc_score(y, p, sample_weight=w))


def brier_score(y: ArrayLike, p: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    """Mean squared difference between predicted chance and outcome."""
    y, p, w = _prep(y, p, sample_weight)
    return float(np.sum(w * (p - y) ** 2) / np.sum(w))


def _bins(p: np.ndarray, w: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    if strategy == "uniform":
        return np.minimum((p * n_bins).astype(int), n_bins - 1)
    if strategy != "quantile":
        raise ValueError(f"strategy must be 'quantile' or 'uniform', got {strategy!r}")
    order = np.argsort(p, kind="stable")
    cum = np.cumsum(w[order])
    cum = cum - w[order] / 2  # the middle of each lead's weight
    b = np.empty(p.size, dtype=int)
    b[order] = np.minimum((cum / cum[-1] * n_bins).astype(int) if cum[-1] > 0 else 0, n_bins - 1)
    # leads with the same prediction share a bin
    frame = pd.DataFrame({"p": p, "b": b})
    return frame.groupby("p")["b"].transform("min").to_numpy()


def reliability_curve(
    y: ArrayLike,
    p: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "quantile",
    sample_weight: ArrayLike | None = None,
) -> pd.DataFrame:
    """Per bin of predicted chance: ``leads``, ``weight``, ``mean_predicted``, ``observed``
    and its 95% Wilson interval ``observed_low``, ``observed_high``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 0.5, 20_000)
    >>> y = rng.random(20_000) < p
    >>> curve = reliability_curve(y, p, n_bins=5)
    >>> bool(np.all(np.abs(curve["observed"] - curve["mean_predicted"]) < 0.02))
    True
    """
    y, p, w = _prep(y, p, sample_weight)
    b = _bins(p, w, n_bins, strategy)
    frame = pd.DataFrame({"bin": b, "w": w, "wp": w * p, "wy": w * y, "one": 1})
    g = frame.groupby("bin")
    out = pd.DataFrame(
        {
            "leads": g["one"].sum(),
            "weight": g["w"].sum(),
        }
    )
    out["mean_predicted"] = g["wp"].sum() / out["weight"]
    out["observed"] = g["wy"].sum() / out["weight"]
    # Wilson interval on the effective number of leads (Kish)
    n_eff = out["weight"] ** 2 / g["w"].apply(lambda s: float(np.sum(s.to_numpy() ** 2)))
    z = 1.959964
    phat = out["observed"]
    centre = (phat + z * z / (2 * n_eff)) / (1 + z * z / n_eff)
    half = z * np.sqrt(phat * (1 - phat) / n_eff + z * z / (4 * n_eff**2)) / (1 + z * z / n_eff)
    out["observed_low"] = (centre - half).clip(lower=0)
    out["observed_high"] = (centre + half).clip(upper=1)
    return out.reset_index()


def expected_calibration_error(
    y: ArrayLike,
    p: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "quantile",
    sample_weight: ArrayLike | None = None,
) -> float:
    """Weighted mean gap between predicted and observed win rate over bins (module docstring)."""
    curve = reliability_curve(y, p, n_bins=n_bins, strategy=strategy, sample_weight=sample_weight)
    gap = np.abs(curve["mean_predicted"] - curve["observed"])
    return float(np.sum(curve["weight"] * gap) / curve["weight"].sum())


def gains_table(
    y: ArrayLike, p: ArrayLike, *, n_bins: int = 10, sample_weight: ArrayLike | None = None
) -> pd.DataFrame:
    """Leads sorted best first into ``n_bins`` bins of equal weight.

    Columns: ``bin`` (1 = best), ``leads``, ``share_of_leads`` (cumulative), ``wins``,
    ``win_rate``, ``gains`` (cumulative share of all wins), ``lift`` (bin win rate over the
    overall rate), ``cumulative_lift``.
    """
    y, p, w = _prep(y, p, sample_weight)
    b = n_bins - 1 - _bins(p, w, n_bins, "quantile")
    frame = pd.DataFrame({"bin": b + 1, "w": w, "wy": w * y, "one": 1})
    g = frame.groupby("bin")
    out = pd.DataFrame({"leads": g["one"].sum(), "weight": g["w"].sum(), "wins": g["wy"].sum()})
    total_w, total_y = out["weight"].sum(), out["wins"].sum()
    rate = total_y / total_w
    out["share_of_leads"] = out["weight"].cumsum() / total_w
    out["win_rate"] = out["wins"] / out["weight"]
    out["gains"] = out["wins"].cumsum() / total_y if total_y > 0 else np.nan
    out["lift"] = out["win_rate"] / rate if rate > 0 else np.nan
    out["cumulative_lift"] = out["gains"] / out["share_of_leads"]
    return out.drop(columns="weight").reset_index()


@dataclass(frozen=True, slots=True, eq=False)
class Evaluation:
    """How well predicted chances match outcomes on one set of leads."""

    n: int
    base_rate: float
    auc: float
    brier: float
    log_loss: float
    ece: float
    reliability: pd.DataFrame
    gains: pd.DataFrame

    def summary(self) -> pd.Series:
        """The figures as a Series: leads, base rate, AUC, Brier, log loss, ECE, top-decile lift."""
        return pd.Series(
            {
                "leads": self.n,
                "base_rate": self.base_rate,
                "auc": self.auc,
                "brier": self.brier,
                "log_loss": self.log_loss,
                "ece": self.ece,
                "top_decile_lift": float(self.gains["lift"].iloc[0]),
            }
        )

    def __repr__(self) -> str:
        return (
            f"Evaluation(n={self.n:,}, base_rate={self.base_rate:.4f}, auc={self.auc:.4f}, "
            f"brier={self.brier:.4f}, ece={self.ece:.4f})"
        )


def evaluate(y: ArrayLike, p: ArrayLike, *, sample_weight: ArrayLike | None = None, n_bins: int = 10) -> Evaluation:
    """AUC, Brier score, log loss, reliability curve, ECE and gains of predictions ``p``.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> p = rng.beta(1, 6, 50_000)
    >>> y = rng.random(50_000) < p
    >>> e = evaluate(y, p)
    >>> round(e.base_rate, 2), e.ece < 0.01, 0.7 < e.auc < 0.8
    (0.14, True, True)
    """
    yv, pv, w = _prep(y, p, sample_weight)
    return Evaluation(
        n=int(yv.size),
        base_rate=float(np.dot(w, yv) / w.sum()),
        auc=roc_auc(yv, pv, sample_weight=w),
        brier=brier_score(yv, pv, sample_weight=w),
        log_loss=float(log_loss(yv, np.clip(pv, 1e-15, 1 - 1e-15), sample_weight=w, labels=[0, 1])),
        ece=expected_calibration_error(yv, pv, n_bins=n_bins, sample_weight=w),
        reliability=reliability_curve(yv, pv, n_bins=n_bins, sample_weight=w),
        gains=gains_table(yv, pv, n_bins=n_bins, sample_weight=w),
    )


@dataclass(frozen=True, slots=True, eq=False)
class Stability:
    """Population stability between a reference and a current sample."""

    psi: float
    table: pd.DataFrame  # bin, expected_share, actual_share, contribution

    @property
    def verdict(self) -> str:
        """The usual reading of the PSI: stable below 0.1, moderate to 0.25, shifted above."""
        return "stable" if self.psi < 0.1 else "shift" if self.psi < 0.25 else "major shift"


def population_stability(expected: ArrayLike, actual: ArrayLike, *, n_bins: int = 10) -> Stability:
    """PSI of one variable (module docstring): quantile bins of ``expected`` if numeric, else
    one bin per category; missing values are a bin of their own.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> same = population_stability(rng.normal(size=5000), rng.normal(size=5000))
    >>> moved = population_stability(rng.normal(size=5000), rng.normal(0.5, 1, size=5000))
    >>> same.verdict, moved.verdict
    ('stable', 'shift')
    """
    e = pd.Series(np.asarray(expected, dtype=object) if not isinstance(expected, pd.Series) else expected)
    a = pd.Series(np.asarray(actual, dtype=object) if not isinstance(actual, pd.Series) else actual)
    if len(e) == 0 or len(a) == 0:
        raise ValueError("population_stability needs leads in both samples")
    e_num = pd.to_numeric(e, errors="coerce")
    a_num = pd.to_numeric(a, errors="coerce")
    numeric = (e_num.notna() == e.notna()).all() and (a_num.notna() == a.notna()).all() and e_num.notna().any()
    if numeric:
        ev, av = e_num.to_numpy(dtype=float), a_num.to_numpy(dtype=float)
        edges = np.unique(np.nanquantile(ev, np.linspace(0, 1, n_bins + 1)[1:-1]))
        labels = [f"<{edges[0]:g}"] if edges.size else ["all"]
        labels += [f"{lo:g} to <{hi:g}" for lo, hi in zip(edges, edges[1:], strict=False)] + (
            [f">={edges[-1]:g}"] if edges.size else []
        )

        def cut(v):  # noqa: E306
            k = np.searchsorted(edges, v, side="right").astype(object)
            k = np.array([labels[i] for i in k], dtype=object)
            k[np.isnan(v)] = "(missing)"
            return pd.Series(k)

        eb, ab = cut(ev), cut(av)
        order = labels + ["(missing)"]
    else:
        eb = e.astype("object").where(e.notna(), "(missing)").astype(str)
        ab = a.astype("object").where(a.notna(), "(missing)").astype(str)
        order = sorted(set(eb) | set(ab))
    es = eb.value_counts(normalize=True).reindex(order, fill_value=0.0)
    as_ = ab.value_counts(normalize=True).reindex(order, fill_value=0.0)
    keep = (es > 0) | (as_ > 0)
    es, as_ = es[keep], as_[keep]
    ef, af = np.maximum(es, 1e-4), np.maximum(as_, 1e-4)
    contrib = (af - ef) * np.log(af / ef)
    table = pd.DataFrame(
        {
            "bin": es.index,
            "expected_share": es.to_numpy(),
            "actual_share": as_.to_numpy(),
            "contribution": contrib.to_numpy(),
        }
    )
    return Stability(psi=float(contrib.sum()), table=table)


def stability_table(reference: pd.DataFrame, current: pd.DataFrame, *, n_bins: int = 10) -> pd.DataFrame:
    """PSI of every column two samples of leads share, worst first: ``column, psi, verdict``."""
    rows = []
    for c in reference.columns:
        if c in current.columns:
            s = population_stability(reference[c], current[c], n_bins=n_bins)
            rows.append((c, s.psi, s.verdict))
    return pd.DataFrame(rows, columns=["column", "psi", "verdict"]).sort_values(
        "psi", ascending=False, ignore_index=True
    )


@dataclass(frozen=True, slots=True, eq=False)
class Backtest:
    """An out-of-time check: fitted on older leads, scored on newer ones."""

    estimator: object
    train_period: tuple[pd.Timestamp, pd.Timestamp]
    test_period: tuple[pd.Timestamp, pd.Timestamp]
    n_train: int
    n_test: int
    train: Evaluation
    test: Evaluation
    score_stability: Stability
    feature_stability: pd.DataFrame

    def summary(self) -> pd.DataFrame:
        """Train and test figures side by side."""
        return pd.DataFrame({"train": self.train.summary(), "test": self.test.summary()})


def backtest(
    estimator, labels, *, at: str | pd.Timestamp | None = None, test_share: float = 0.3, n_bins: int = 10
) -> Backtest:
    """Fit a clone of ``estimator`` on the older leads of ``labels`` and evaluate it on the newer.

    Parameters
    ----------
    estimator : a classifier with ``predict_proba`` (for example ``Scorecard()``).
    labels : from ``make_labels``; split by clock start with ``Labels.split_by_time``.
    at, test_share : where to split (default: the newest ``test_share`` of leads are the test).
    """
    train, test = labels.split_by_time(at=at, test_share=test_share)
    model = clone(estimator).fit(train.X, train.y, sample_weight=train.sample_weight)
    p_train = model.predict_proba(train.X)[:, 1]
    p_test = model.predict_proba(test.X)[:, 1]
    return Backtest(
        estimator=model,
        train_period=(train.start_at.min(), train.start_at.max()),
        test_period=(test.start_at.min(), test.start_at.max()),
        n_train=len(train),
        n_test=len(test),
        train=evaluate(train.y, p_train, sample_weight=train.sample_weight, n_bins=n_bins),
        test=evaluate(test.y, p_test, sample_weight=test.sample_weight, n_bins=n_bins),
        score_stability=population_stability(p_train, p_test, n_bins=n_bins),
        feature_stability=stability_table(train.X, test.X, n_bins=n_bins),
    )


def funnel_conversion(leads: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Stage-to-stage conversion of the funnel: created, MQL, SAL, SQL, opportunity, customer.

    A lead counts at a stage when its time for that stage (or any later one) is set.
    Columns: ``stage``, ``leads`` reaching it, ``from_previous`` (share of the previous
    stage's leads) and ``from_created``. With ``by="month"`` (of creation) or a column name,
    one block per group, with the group in the first column.

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01", tz="UTC")
    >>> leads = pd.DataFrame({"created_at": [t] * 4, "mql_at": [t, t, t, pd.NaT],
    ...                       "sql_at": [t, pd.NaT, pd.NaT, pd.NaT]})
    >>> funnel_conversion(leads)[["stage", "leads", "from_previous"]]
          stage  leads  from_previous
    0   created      4       1.000000
    1       mql      3       0.750000
    2       sql      1       0.333333
    """
    stages = [c for c in LIFECYCLE_ORDER if c in leads.columns and (c == "created_at" or leads[c].notna().any())]
    if "created_at" not in stages:
        raise KeyError("funnel_conversion needs the column 'created_at'")
    reached = reached_stages(leads[stages])

    def block(frame: pd.DataFrame) -> pd.DataFrame:
        n = frame.sum().astype(int)
        prev = n.shift(1).fillna(n.iloc[0])
        return pd.DataFrame(
            {
                "stage": [s.removesuffix("_at") for s in stages],
                "leads": n.to_numpy(),
                "from_previous": (n / prev.where(prev > 0)).to_numpy(),
                "from_created": (n / n.iloc[0] if n.iloc[0] > 0 else n * np.nan).to_numpy(),
            }
        )

    if by is None:
        return block(reached)
    month = leads["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    key = month.rename("month") if by == "month" else leads[by]
    parts = []
    for value, idx in reached.groupby(key, observed=True).groups.items():
        b = block(reached.loc[idx])
        b.insert(0, key.name, value)
        parts.append(b)
    return pd.concat(parts, ignore_index=True)
