"""Plots of the fit and its diagnostics. Each takes ``ax=None`` and returns the ``Axes``.

Nothing here computes: the numbers come from ``calibrate.diagnostics`` and the fitted
``Scorecard``; nothing is shown or saved.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter
from numpy.typing import ArrayLike
from sklearn.metrics import RocCurveDisplay

from calibrate.diagnostics import Backtest, Evaluation, Stability
from simulate.plotting import plain_text


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    return ax


def save_png(draw, path, figsize: tuple[float, float] = (9, 5)) -> None:
    """Draw ``draw(ax)`` on a new figure and write it to ``path`` as a PNG, atomically (the
    command line's ``--plot``); no window opens."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from simulate.atomic import write_atomic

    fig, ax = plt.subplots(figsize=figsize)
    draw(ax)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)


def plot_reliability(
    curve: pd.DataFrame | Evaluation, *, ax: Axes | None = None, label: str | None = None, **kwargs
) -> Axes:
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
    label = None if label is None else plain_text(label)
    ax.errorbar(c["mean_predicted"], c["observed"], yerr=yerr, marker="o", capsize=3, label=label, **kwargs)
    top = float(max(c["mean_predicted"].max(), c["observed_high"].max(), 1e-3))
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("mean predicted chance to win")
    ax.set_ylabel("observed win rate")
    ax.set_title("Reliability")
    if label:
        ax.legend()
    return ax


def plot_gains(gains: pd.DataFrame | Evaluation, *, ax: Axes | None = None, label: str | None = None, **kwargs) -> Axes:
    """Cumulative share of wins against the share of leads called, best first."""
    ax = _axes(ax)
    g = gains.gains if isinstance(gains, Evaluation) else gains
    label = None if label is None else plain_text(label)
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


def plot_roc(y: ArrayLike, p: ArrayLike, *, ax: Axes | None = None, label: str | None = None, **kwargs) -> Axes:
    """ROC curve (scikit-learn's ``RocCurveDisplay``)."""
    ax = _axes(ax)
    name = None if label is None else plain_text(label)
    RocCurveDisplay.from_predictions(np.asarray(y), np.asarray(p), ax=ax, name=name, **kwargs)
    return ax


def plot_points(table, *, ax: Axes | None = None, axis: str | None = None, max_rows: int = 30, **kwargs) -> Axes:
    """Points per criterion and value, as horizontal bars grouped by criterion.

    ``table`` is a fitted ``Scorecard`` or a points table (``axis, criterion, value,
    points``). Rows with zero points are left out, and of the rest at most ``max_rows``
    with the largest points (either sign) are drawn, in the table's order; the title says
    how many were omitted. A thin line separates the criteria.
    """
    ax = _axes(ax)
    t = table.table() if hasattr(table, "table") and callable(table.table) else table
    if axis is not None:
        t = t[t["axis"] == axis]
    total = len(t)
    t = t[t["points"] != 0]
    if len(t) > max_rows:
        keep = t["points"].abs().rank(method="first", ascending=False) <= max_rows
        t = t[keep]
    t = t.reset_index(drop=True)
    labels = [plain_text(f"{c}: {v}") for c, v in zip(t["criterion"], t["value"], strict=False)]
    y = np.arange(len(t))[::-1]
    colours = np.where(t["points"].to_numpy() >= 0, "tab:blue", "tab:red")
    ax.barh(y, t["points"], color=colours, **kwargs)
    ax.set_yticks(y, labels, fontsize="small")
    new_group = np.flatnonzero(t["criterion"].to_numpy()[1:] != t["criterion"].to_numpy()[:-1]) + 1
    for k in new_group:
        ax.axhline(y[k] + 0.5, color="0.8", linewidth=0.8)
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_xlabel("points added to the score")
    title = "Points per criterion" + (f" ({axis})" if axis else "")
    if len(t) < total:
        title += f"\n{len(t)} of {total} rows shown: {total - len(t)} with zero or the fewest points omitted"
    ax.set_title(title, fontsize="medium")
    return ax


def plot_stability(stability: Stability | pd.DataFrame, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Reference and current shares per bin (a ``Stability``), or PSI per column (a table)."""
    ax = _axes(ax)
    if isinstance(stability, Stability):
        t = stability.table
        x = np.arange(len(t))
        ax.bar(x - 0.2, t["expected_share"], width=0.4, label="reference", **kwargs)
        ax.bar(x + 0.2, t["actual_share"], width=0.4, label="current", **kwargs)
        ax.set_xticks(x, [plain_text(b) for b in t["bin"]], rotation=45, ha="right", fontsize="small")
        ax.set_ylabel("share of leads")
        ax.set_title(f"Population stability: PSI {stability.psi:.3f} ({stability.verdict})")
        ax.legend()
    else:
        t = stability
        y = np.arange(len(t))[::-1]
        ax.barh(y, t["psi"], **kwargs)
        ax.set_yticks(y, [plain_text(c) for c in t["column"]], fontsize="small")
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
        ax.annotate(
            f"{share:.0%}",
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize="small",
        )
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


def plot_frontier(
    tradeoffs,
    *,
    recommended: float | None = None,
    current: float | None = None,
    ax: Axes | None = None,
    sla_target: float | None = None,
    currency: str = "USD",
) -> Axes:
    """The threshold frontier: MQLs a month, SLA compliance and revenue a month.

    The x axis is the threshold, over the range where the figures change (from where the
    team has at most twice its capacity to do; below it every lead is an MQL and the SLA is
    lost). One meaning per axis: the left axis the MQLs a month (grey area), the right the
    share of MQLs first touched within the SLA (analytic line, simulated points with their
    interval where checked; the target dashed), an outer right axis the revenue a month in
    ``currency`` with its interval. The recommended and current thresholds are vertical
    lines; the legend sits below the axes, off the data.

    Parameters
    ----------
    tradeoffs : a ``calibrate.tradeoffs.Tradeoffs`` (or its ``table``).
    recommended, current : thresholds to mark.
    currency : the deal amounts' currency (the revenue axis' unit).
    """
    table = tradeoffs.table if hasattr(tradeoffs, "table") else tradeoffs
    sla = getattr(tradeoffs, "sla", None)
    target = sla_target if sla_target is not None else getattr(sla, "target", None)
    ax = _axes(ax)
    t = table["threshold"].to_numpy()
    ax.fill_between(t, table["mqls_per_month"], step="mid", color="0.85", label="MQLs a month (left axis)")
    _shade_extrapolated(ax, table)
    lo, hi = _busy_range(table)
    for x in (recommended, current):
        if x is not None:
            lo, hi = min(lo, x - 1.0), max(hi, x + 1.0)
    ax.set_xlim(lo, hi)
    shown = table[(table["threshold"] >= lo) & (table["threshold"] <= hi)]
    ax.set_ylim(0, 1.05 * max(float(shown["mqls_per_month"].max()), 1.0))
    ax.set_xlabel("MQL threshold (score)")
    ax.set_ylabel("MQLs a month")
    right = ax.twinx()
    right.plot(t, table["sla_compliance"], color="tab:blue", label=_sla_label(table))
    if "sim_sla_compliance" in table:
        sim = table.dropna(subset=["sim_sla_compliance"])
        right.errorbar(
            sim["threshold"],
            sim["sim_sla_compliance"],
            yerr=[
                sim["sim_sla_compliance"] - sim["sim_sla_compliance_low"],
                sim["sim_sla_compliance_high"] - sim["sim_sla_compliance"],
            ],
            fmt="o",
            ms=3,
            color="tab:blue",
            label="SLA met (simulated, 95% interval)",
        )
    if target is not None:
        right.axhline(target, color="tab:blue", linestyle="--", linewidth=1, label=f"SLA target {target:.0%}")
    right.set_ylim(0, 1.05)
    right.yaxis.set_major_formatter(PercentFormatter(1.0))
    right.set_ylabel(_sla_axis_label(table, sla), color="tab:blue")
    money = None
    revenue = table["revenue_per_month"] if "revenue_per_month" in table else None
    if revenue is not None and np.nanmax(revenue.to_numpy(dtype=float), initial=0) > 0:
        money = ax.twinx()
        money.spines["right"].set_position(("axes", 1.16))
        money.plot(t, revenue, color="tab:green", label=f"revenue, {currency} a month (outer axis)")
        if "revenue_per_month_low" in table:
            money.fill_between(
                t, table["revenue_per_month_low"], table["revenue_per_month_high"], color="tab:green", alpha=0.2, lw=0
            )
        money.set_ylim(bottom=0)
        money.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e3:,.0f}k"))
        money.set_ylabel(f"revenue, {currency} a month", color="tab:green")
    for x, label, style in ((recommended, "recommended", "-"), (current, "current", ":")):
        if x is not None:
            ax.axvline(x, color="black", linestyle=style, linewidth=1.2, label=f"{label} threshold {x:g}")
    handles, labels = [], []
    for a in (ax, right, money):
        if a is not None:
            h, lab = a.get_legend_handles_labels()
            handles, labels = handles + h, labels + lab
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    ax.set_title("Threshold frontier: volume, SLA and revenue")
    return ax


def _shade_extrapolated(ax: Axes, table: pd.DataFrame) -> None:
    """Hatch the part of the volume that comes from regions of the score the history never
    worked (``extrapolated_share``): there the wins are a range, not a measurement."""
    if "extrapolated_share" not in table or not (table["extrapolated_share"] > 0.005).any():
        return
    t = table["threshold"].to_numpy()
    volume = table["mqls_per_month"].to_numpy(float)
    known = volume * (1 - table["extrapolated_share"].to_numpy(float))
    ax.fill_between(
        t,
        known,
        volume,
        step="mid",
        facecolor="none",
        edgecolor="tab:orange",
        hatch="////",
        linewidth=0,
        label="of which never worked (wins extrapolated; left axis)",
    )


def _sla_axis_label(table: pd.DataFrame, sla) -> str:
    """The right axis: the share of MQLs touched within the SLA, with its clock."""
    if sla is not None:
        return f"MQLs touched within {sla.hours:g} {sla.clock} h"
    return "MQLs touched within the SLA"


# --- the SLA load and staffing of each threshold (notebook 3, the explorer) ----------------
def _table_and_team(tradeoffs):
    """The trade-off table, and the team and SLA when a ``Tradeoffs`` is given."""
    table = tradeoffs.table if hasattr(tradeoffs, "table") else tradeoffs
    return table, getattr(tradeoffs, "team", None), getattr(tradeoffs, "sla", None)


def _busy_range(table: pd.DataFrame, max_utilisation: float = 2.0) -> tuple[float, float]:
    """Thresholds from where the team has at most ``max_utilisation`` of its capacity to do
    (below it nothing changes: the SLA is lost) to the highest."""
    t = table["threshold"].to_numpy(dtype=float)
    ok = table["utilisation"].to_numpy(dtype=float) <= max_utilisation
    lo = t[ok].min() if ok.any() else t.min()
    pad = 0.03 * (t.max() - lo) if t.max() > lo else 1.0
    return lo - pad, t.max() + pad


def _mark_threshold(ax: Axes, x: float | None, label: str = "recommended") -> None:
    if x is not None:
        ax.axvline(x, color="black", linewidth=1)
        ax.annotate(
            f"{label} {x:g}",
            (x, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, -12),
            textcoords="offset points",
            fontsize=8,
        )


def plot_sla_load(
    tradeoffs, *, recommended: float | None = None, ax: Axes | None = None, sla_target: float | None = None
) -> Axes:
    """What each threshold asks of the team: SLA compliance, utilisation and response times.

    Left axis (shares): SLA compliance from the analytic queue model (line) and from the
    simulation where it was checked (points with their interval), the SLA target (dashed)
    and rep utilisation (offered work over capacity; above 100% the backlog grows without
    end and is drawn off the top). Right axis (hours, log scale): median and 90th
    percentile calendar hours from MQL to first touch, where the team keeps up. The axis
    starts where the team would have twice its capacity to do (lower thresholds only lose
    more).

    Parameters
    ----------
    tradeoffs : a ``calibrate.tradeoffs.Tradeoffs`` (or its ``table``).
    recommended : a threshold to mark.
    sla_target : the target line (default: the trade-offs' SLA).
    """
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    table, team, sla = _table_and_team(tradeoffs)
    target = sla_target if sla_target is not None else getattr(sla, "target", None)
    ax = _axes(ax)
    t = table["threshold"].to_numpy(dtype=float)
    ax.plot(t, table["sla_compliance"], color="tab:blue", label=_sla_label(table))
    if "sim_sla_compliance" in table:
        sim = table.dropna(subset=["sim_sla_compliance"])
        if len(sim):
            ax.errorbar(
                sim["threshold"],
                sim["sim_sla_compliance"],
                yerr=[
                    sim["sim_sla_compliance"] - sim["sim_sla_compliance_low"],
                    sim["sim_sla_compliance_high"] - sim["sim_sla_compliance"],
                ],
                fmt="o",
                ms=3,
                color="tab:blue",
                label="SLA met (simulated)",
            )
    ax.plot(t, table["utilisation"], color="tab:orange", label="rep utilisation")
    if target is not None:
        ax.axhline(target, color="tab:blue", linestyle="--", linewidth=1, label=f"SLA target {target:.0%}")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_ylim(0, 1.25)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("MQL threshold (score)")
    ax.set_ylabel("share")
    right = ax.twinx()
    stable = table["utilisation"].to_numpy(dtype=float) < 1
    for column, style, label in (
        ("median_response_hours", "-", "median hours to first touch"),
        ("p90_response_hours", ":", "90th percentile hours"),
    ):
        hours = table[column].to_numpy(dtype=float)
        hours = np.where(np.isfinite(hours) & (hours > 0) & stable, hours, np.nan)
        right.plot(t, hours, color="tab:purple", linestyle=style, label=label)
    right.set_yscale("log")
    right.yaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    right.set_ylabel(
        "calendar hours from MQL to first touch\n(where the team keeps up)", color="tab:purple", fontsize="small"
    )
    right.tick_params(axis="y", colors="tab:purple")
    _mark_threshold(ax, recommended)
    handles = [*ax.get_legend_handles_labels()[0], *right.get_legend_handles_labels()[0]]
    labels = [*ax.get_legend_handles_labels()[1], *right.get_legend_handles_labels()[1]]
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, fontsize=8)
    ax.set_xlim(*_busy_range(table))
    title = "SLA load of each threshold"
    if team is not None:
        title += f" ({team.size} reps"
        title += f", {sla.hours:g} {sla.clock} hours)" if sla is not None else ")"
    ax.set_title(title)
    return ax


def plot_staffing(
    tradeoffs,
    *,
    recommended: float | None = None,
    ax: Axes | None = None,
    reps: int | None = None,
    max_reps: int | None = None,
) -> Axes:
    """Reps needed to meet the SLA target at each threshold, against the team you have.

    A step line of ``reps_needed`` (the smallest team with the same calendars and shrinkage
    whose SLA compliance reaches the target, from the analytic model), the current team as a
    horizontal line, and the thresholds the current team can serve shaded. Thresholds that
    need more than ``max_reps`` reps (default three times the team) run off the top; the
    axis starts where the team would have twice its capacity to do.

    Parameters
    ----------
    tradeoffs : a ``calibrate.tradeoffs.Tradeoffs`` (or its ``table``, then give ``reps``).
    recommended : a threshold to mark.
    reps : the current team size (default: the trade-offs' team).
    """
    table, team, sla = _table_and_team(tradeoffs)
    reps = reps if reps is not None else getattr(team, "size", None)
    ax = _axes(ax)
    t = table["threshold"].to_numpy(dtype=float)
    needed = table["reps_needed"].to_numpy(dtype=float)
    needed = np.where(needed >= 0, needed, np.nan)  # -1: no team size meets the target
    ax.step(t, needed, where="post", color="tab:red", label="reps needed for the SLA target")
    top = max_reps if max_reps is not None else max(3 * (reps or 1), 6)
    if reps is not None:
        ax.axhline(reps, color="black", linestyle="--", linewidth=1, label=f"your team: {reps} reps")
        ok = needed <= reps
        if ok.any():
            ax.fill_between(
                t,
                0,
                top + 1,
                where=ok,
                step="post",
                color="tab:green",
                alpha=0.12,
                label=f"thresholds {reps} reps can serve",
            )
    ax.set_ylim(0, top + 0.5)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("MQL threshold (score)")
    ax.set_ylabel("reps")
    _mark_threshold(ax, recommended)
    what = f" ({sla.hours:g} {sla.clock} hours for {sla.target:.0%})" if sla is not None else ""
    ax.set_title("Staffing: reps needed to meet the SLA" + what)
    ax.set_xlim(*_busy_range(table))
    ax.legend(loc="center right", fontsize=8)
    return ax


def _sla_label(table: pd.DataFrame) -> str:
    """The SLA line's name: the analytic model's, or the figure trusted per threshold (the
    simulation's where it overrides the model or the model is outside its validity)."""
    return "SLA met (expected)" if "sla_source" in table else "SLA met (analytic)"


def plot_monitor(report, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Next month's expected SLA compliance against its MQL volume (``MonitorReport``), with
    the target, the forecast and its interval; one curve per team looked at."""
    ax = _axes(ax)
    risks = [("team as it is", report.risk)]
    if report.planned_risk is not None:
        risks.append(("planned team", report.planned_risk))
    for label, r in risks:
        ax.plot(r.curve["mqls"], r.curve["sla_compliance"], label=f"{label} ({r.reps} reps)", **kwargs)
    f = report.forecast
    ax.axhline(report.risk.target, color="k", lw=0.8, ls="--", label="SLA target")
    ax.axvspan(f.low, f.high, color="tab:orange", alpha=0.15, label=f"forecast {f.month}, {f.confidence:.0%}")
    ax.axvline(f.mqls, color="tab:orange", lw=1)
    ax.set_xlabel("MQLs next month (per month)")
    ax.set_ylabel("SLA met (share of MQLs)")
    ax.set_title(f"Monitor of {report.month}: {report.decision}")
    ax.legend(loc="lower left")
    return ax
