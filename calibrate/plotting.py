"""Plots of the fit and its diagnostics. Each takes ``ax=None`` and returns the ``Axes``.

Nothing here computes: the numbers come from ``calibrate.diagnostics`` and the fitted
``Scorecard``; nothing is shown or saved.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike
from sklearn.metrics import RocCurveDisplay

from calibrate.diagnostics import Backtest, Evaluation, Stability


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    return ax


def plot_reliability(curve: pd.DataFrame | Evaluation, *, ax: Axes | None = None,
                     label: str | None = None,
                     **kwargs) -> Axes:  # fmt: skip
    """Observed win rate (with its 95% interval) against the mean predicted chance per bin.

    Examples
    --------
    >>> from calibrate.diagnostics import reliability_curve
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0, 0.4, 5000)
    >>> ax = plot_reliability(reliability_curve(rng.random(5000) < p, p))
    >>> ax.get_xlabel()
    'mean predicted chance to win'
    """
    ax = _axes(ax)
    c = curve.reliability if isinstance(curve, Evaluation) else curve
    yerr = np.vstack([c["observed"] - c["observed_low"], c["observed_high"] - c["observed"]])
    ax.errorbar(
        c["mean_predicted"], c["observed"], yerr=yerr, marker="o", capsize=3, label=label, **kwargs
    )
    top = float(max(c["mean_predicted"].max(), c["observed_high"].max(), 1e-3))
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("mean predicted chance to win")
    ax.set_ylabel("observed win rate")
    ax.set_title("Reliability")
    if label:
        ax.legend()
    return ax


def plot_gains(gains: pd.DataFrame | Evaluation, *, ax: Axes | None = None,
               label: str | None = None,
               **kwargs) -> Axes:  # fmt: skip
    """Cumulative share of wins against the share of leads called, best first."""
    ax = _axes(ax)
    g = gains.gains if isinstance(gains, Evaluation) else gains
    ax.plot(np.r_[0, g["share_of_leads"]], np.r_[0, g["gains"]], marker="o", label=label, **kwargs)
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("share of leads, best scores first")
    ax.set_ylabel("share of wins found")
    ax.set_title("Gains")
    if label:
        ax.legend()
    return ax


def plot_lift(gains: pd.DataFrame | Evaluation, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Win rate of each bin over the overall rate, best bin first."""
    ax = _axes(ax)
    g = gains.gains if isinstance(gains, Evaluation) else gains
    ax.bar(g["bin"], g["lift"], **kwargs)
    ax.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("bin of leads (1 = best scores)")
    ax.set_ylabel("lift")
    ax.set_title("Lift")
    return ax


def plot_roc(
    y: ArrayLike, p: ArrayLike, *, ax: Axes | None = None, label: str | None = None, **kwargs
) -> Axes:
    """ROC curve (scikit-learn's ``RocCurveDisplay``)."""
    ax = _axes(ax)
    RocCurveDisplay.from_predictions(np.asarray(y), np.asarray(p), ax=ax, name=label, **kwargs)
    return ax


def plot_points(table, *, ax: Axes | None = None, axis: str | None = None, **kwargs) -> Axes:
    """Points per criterion and value, as horizontal bars (a fitted ``Scorecard`` or its table)."""
    ax = _axes(ax)
    t = table.table() if hasattr(table, "table") and callable(table.table) else table
    if axis is not None:
        t = t[t["axis"] == axis]
    labels = [f"{c}: {v}" for c, v in zip(t["criterion"], t["value"], strict=False)]
    y = np.arange(len(t))[::-1]
    colours = np.where(t["points"].to_numpy() >= 0, "tab:blue", "tab:red")
    ax.barh(y, t["points"], color=colours, **kwargs)
    ax.set_yticks(y, labels, fontsize="small")
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_xlabel("points")
    ax.set_title("Points per criterion" + (f" ({axis})" if axis else ""))
    return ax


def plot_stability(
    stability: Stability | pd.DataFrame, *, ax: Axes | None = None, **kwargs
) -> Axes:
    """Reference and current shares per bin (a ``Stability``), or PSI per column (a table)."""
    ax = _axes(ax)
    if isinstance(stability, Stability):
        t = stability.table
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["expected_share"], width=0.4, label="reference", **kwargs)
        ax.bar(x + 0.2, t["actual_share"], width=0.4, label="current", **kwargs)
        ax.set_xticks(x, t["bin"].astype(str), rotation=45, ha="right", fontsize="small")
        ax.set_ylabel("share of leads")
        ax.set_title(f"Population stability: PSI {stability.psi:.3f} ({stability.verdict})")
        ax.legend()
    else:
        t = stability
        y = np.arange(len(t))[::-1]
        ax.barh(y, t["psi"], **kwargs)
        ax.set_yticks(y, t["column"], fontsize="small")
        for level in (0.1, 0.25):
            ax.axvline(level, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel("PSI")
        ax.set_title("Population stability per feature")
    return ax


def plot_funnel(conversion: pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Leads reaching each funnel stage, with the stage-to-stage conversion."""
    ax = _axes(ax)
    c = conversion
    x = np.arange(len(c))
    bars = ax.bar(x, c["leads"], **kwargs)
    for bar, share in zip(bars, c["from_previous"], strict=False):
        ax.annotate(f"{share:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize="small")  # fmt: skip
    ax.set_xticks(x, c["stage"])
    ax.set_ylabel("leads")
    ax.set_title("Funnel: leads reaching each stage (share of the previous)")
    return ax


def plot_backtest(result: Backtest, *, ax: Axes | None = None) -> Axes:
    """Reliability on the training period and on the later test period."""
    ax = _axes(ax)
    plot_reliability(result.train, ax=ax, label=f"train (AUC {result.train.auc:.3f})")
    plot_reliability(result.test, ax=ax, label=f"test, later (AUC {result.test.auc:.3f})")
    ax.set_title("Out-of-time backtest")
    return ax
