"""Plots of a simulated (or loaded) history. Each takes ``ax=None`` and returns the ``Axes``.

The input is a ``RunResult`` (or, where said, a lead table, a monthly summary or a sweep's
summary); the little counting a plot needs (stage counts, SLA-clock hours) happens here,
everything else comes from ``simulate.run``. Nothing is shown or saved.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from simulate import Scenario, run
>>> result = run(Scenario(months=2), seed=1)
>>> ax = plot_funnel(result)
>>> [t.get_text() for t in ax.get_yticklabels()][:3]
['created', 'MQL', 'SAL']
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, PercentFormatter

from simulate.queue import QUEUE_PAD_DAYS
from simulate.table import reached_stages

STAGE_LABELS = {
    "created_at": "created",
    "mql_at": "MQL",
    "sal_at": "SAL",
    "sql_at": "SQL",
    "opportunity_at": "opportunity",
    "customer_at": "won",
}
"""How each lifecycle column is named on the funnel."""

_THOUSANDS = FuncFormatter(lambda x, _: f"{x:,.0f}")


def plain_text(text: object) -> str:
    r"""``text`` as matplotlib shows it literally: every ``$`` escaped, so no mathtext is parsed.

    Category names, scenario names and user labels are data: ``"US$ 5k$^"`` must be drawn
    as written, not fail in mathtext's parser (matplotlib turns ``\$`` back into ``$``).

    Examples
    --------
    >>> print(plain_text("a$b$^"))
    a\$b\$^
    """
    return str(text).replace("$", r"\$")


def _axes(ax: Axes | None) -> Axes:
    if ax is None:
        _, ax = plt.subplots()
    return ax


def _leads(data) -> pd.DataFrame:
    """The lead table of a ``RunResult`` or ``History``, or the table itself."""
    leads = getattr(data, "leads", data)
    if not isinstance(leads, pd.DataFrame):
        raise TypeError(f"expected a RunResult or a lead table, got {type(data).__name__}")
    return leads


def _summary(data) -> pd.DataFrame:
    """The monthly summary of a ``RunResult``, or the summary itself."""
    summary = getattr(data, "summary", data)
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"expected a RunResult or its monthly summary, got {type(data).__name__}")
    return summary


def _month_labels(index: pd.Index) -> list[str]:
    """Short month names (``Jan``), with the year on January and on the first month."""
    out = []
    for i, m in enumerate(index):
        p = pd.Period(m, freq="M")
        out.append(p.strftime("%b\n%Y") if i == 0 or p.month == 1 else p.strftime("%b"))
    return out


def stage_counts(data) -> pd.DataFrame:
    """Leads reaching each funnel stage: ``stage, leads, from_previous, from_created``.

    A lead counts at a stage when that stage or any later one is set (an existing customer
    who skipped a step still went through it). The same definition as
    ``calibrate.diagnostics.funnel_conversion`` (``simulate.table.reached_stages``).

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01", tz="UTC")
    >>> leads = pd.DataFrame({"created_at": [t] * 4, "mql_at": [t, t, t, pd.NaT],
    ...                       "sql_at": [t, pd.NaT, pd.NaT, pd.NaT]})
    >>> stage_counts(leads)
         stage  leads  from_previous  from_created
    0  created      4       1.000000          1.00
    1      MQL      3       0.750000          0.75
    2      SQL      1       0.333333          0.25
    """
    leads = _leads(data)
    if "created_at" not in leads.columns:
        raise KeyError("the lead table needs the column 'created_at'")
    reached = reached_stages(leads)
    stages = list(reached.columns)
    n = reached.sum().to_numpy(dtype=float)
    previous = np.r_[n[0], n[:-1]]
    return pd.DataFrame(
        {
            "stage": [STAGE_LABELS[c] for c in stages],
            "leads": n.astype(int),
            "from_previous": np.divide(n, previous, out=np.full(n.size, np.nan), where=previous > 0),
            "from_created": n / n[0] if n[0] > 0 else np.full(n.size, np.nan),
        }
    )


_STAGE_PLURALS = {
    "created": "leads",
    "MQL": "MQLs",
    "SAL": "SALs",
    "SQL": "SQLs",
    "opportunity": "opportunities",
    "won": "wins",
}


def plot_funnel(data, *, ax: Axes | None = None, log: bool = True, **kwargs) -> Axes:
    """The funnel: leads reaching each stage, with the conversion from the stage before.

    Parameters
    ----------
    data : a ``RunResult``, a lead table, or a ``stage_counts`` table.
    log : a logarithmic count axis (default: the late stages are tiny next to the leads
        created; the labels carry the numbers).
    **kwargs : passed to ``Axes.barh``.
    """
    ax = _axes(ax)
    c = data if isinstance(data, pd.DataFrame) and "from_previous" in data else stage_counts(data)
    y = np.arange(len(c))[::-1]
    kwargs.setdefault("color", "tab:blue")
    bars = ax.barh(y, c["leads"], **kwargs)
    stages = list(c["stage"])
    for i, (bar, n, share) in enumerate(zip(bars, c["leads"], c["from_previous"], strict=True)):
        text = f" {n:,}"
        if i > 0:
            text += f"  ({share:.1%} of {_STAGE_PLURALS.get(stages[i - 1], stages[i - 1])})"
        ax.annotate(
            text,
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize="small",
        )
    ax.set_yticks(y, stages)
    top = max(float(c["leads"].max()), 1.0)
    if log:
        ax.set_xscale("log")
        ax.set_xlim(max(0.5, float(c["leads"].min()) / 3), top * 8)
        ax.set_xlabel("leads (log scale)")
    else:
        ax.set_xlim(0, top * 1.6)
        ax.set_xlabel("leads")
    ax.xaxis.set_major_formatter(_THOUSANDS)
    ax.set_title("Funnel: leads reaching each stage")
    return ax


def plot_mql_arrivals(data, *, ax: Axes | None = None, **kwargs) -> Axes:
    """MQLs handed to sales each month (new and back from nurture), and the backlog.

    Bars on the left axis: the month's new MQLs, with the leads back from nurture stacked on
    top. Line on a right-hand axis (a twin of ``ax``): MQLs still waiting for a first touch at the
    month's end (a simulated history knows it; a CRM summary has no backlog and shows
    only the bars).

    Parameters
    ----------
    data : a ``RunResult`` or its monthly ``summary`` (``simulate.simulation.monthly_summary``).
    **kwargs : passed to the bars of new MQLs.
    """
    ax = _axes(ax)
    s = _summary(data)
    x = np.arange(len(s))
    kwargs.setdefault("color", "tab:blue")
    new = s["mqls"].to_numpy(dtype=float)
    ax.bar(x, new, label="new MQLs", **kwargs)
    if "returned_mqls" in s:
        ax.bar(
            x,
            s["returned_mqls"].to_numpy(dtype=float),
            bottom=new,
            color="tab:cyan",
            label="back from nurture",
        )
    ax.set_xticks(x, _month_labels(s.index), fontsize="small")
    ax.set_ylabel("MQLs handed to sales per month")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    handles, labels = ax.get_legend_handles_labels()
    if "backlog_at_month_end" in s:
        right = ax.twinx()
        right.plot(
            x,
            s["backlog_at_month_end"].to_numpy(dtype=float),
            color="tab:red",
            marker="o",
            label="waiting for a first touch at month end",
        )
        right.set_ylabel("MQLs waiting (backlog)", color="tab:red")
        right.set_ylim(0, max(1.0, float(s["backlog_at_month_end"].max())) * 1.15)
        right.tick_params(axis="y", colors="tab:red")
        h, la = right.get_legend_handles_labels()
        handles, labels = handles + h, labels + la
    ax.set_ylim(0, ax.get_ylim()[1] * 1.15)
    ax.legend(handles, labels, loc="upper left", fontsize="small", ncols=3)
    ax.set_title("MQL arrivals and backlog by month")
    return ax


def response_hours(result) -> pd.DataFrame:
    """Per MQL of a ``RunResult``: hours from its (first) MQL moment to the first touch.

    Columns ``calendar_hours``, ``sla_hours`` (on the SLA's clock: working hours of its
    calendar for a ``"business"`` clock) and ``sla_met`` (from the lead table); untouched
    MQLs have ``nan`` hours.
    """
    leads, scenario = result.leads, result.scenario
    mql = leads["mql_at"].notna().to_numpy()
    origin = pd.Timestamp(scenario.start_date, tz="UTC")
    handoff = ((leads.loc[mql, "mql_at"] - origin).dt.total_seconds() / 60.0).to_numpy()
    touch = ((leads.loc[mql, "first_touch_at"] - origin).dt.total_seconds() / 60.0).to_numpy()
    calendar = (touch - handoff) / 60.0
    sla_hours = scenario.sla.hours_elapsed(handoff, touch, scenario.start_date, scenario.days + QUEUE_PAD_DAYS)
    return pd.DataFrame(
        {
            "calendar_hours": calendar,
            "sla_hours": sla_hours,
            "sla_met": leads.loc[mql, "sla_met"].to_numpy(),
        },
        index=leads.index[mql],
    )


def plot_response_times(
    data,
    *,
    ax: Axes | None = None,
    sla_hours: float | None = None,
    sla_target: float | None = None,
    max_hours: float | None = None,
    bins: int = 40,
    **kwargs,
) -> Axes:
    """How long MQLs waited for their first touch, against the SLA.

    A histogram of the wait on the SLA's clock (business hours for the default SLA, so a
    Friday-evening MQL touched on Monday morning waited about 0 hours, not 60), the SLA as
    a vertical line (waits past it in orange), and the share met against the target in the
    title. Waits beyond ``max_hours`` are counted in the last bin.

    Parameters
    ----------
    data : a ``RunResult`` (waits on the SLA's clock), or a lead table (calendar hours; give
        ``sla_hours`` for the line).
    sla_hours, sla_target : override the scenario's SLA.
    max_hours : right end of the axis (default the 99th percentile of the waits, at most
        four and at least one and a half times the SLA).
    **kwargs : passed to ``Axes.hist``.
    """
    ax = _axes(ax)
    if hasattr(data, "scenario"):
        r = response_hours(data)
        hours, sla = r["sla_hours"].to_numpy(), data.scenario.sla
        clock = f"{sla.clock} hours"
        sla_hours = sla.hours if sla_hours is None else sla_hours
        sla_target = sla.target if sla_target is None else sla_target
        met = pd.Series(r["sla_met"], dtype="boolean")
    else:
        leads = _leads(data)
        mql = leads["mql_at"].notna()
        hours = ((leads.loc[mql, "first_touch_at"] - leads.loc[mql, "mql_at"]).dt.total_seconds() / 3600.0).to_numpy()
        clock = "calendar hours"
        met = leads.loc[mql, "sla_met"].astype("boolean") if "sla_met" in leads else None
    touched = hours[np.isfinite(hours)]
    if max_hours is None:
        q99 = float(np.quantile(touched, 0.99)) if touched.size else 1.0
        max_hours = min(4 * sla_hours, q99) if sla_hours else q99
        max_hours = float(np.ceil(max(max_hours, 1.5 * sla_hours if sla_hours else 1.0)))
    if sla_hours:  # bins of equal width with an edge at the SLA
        k = max(1, round(bins * sla_hours / max_hours))
        edges = np.arange(0.0, max_hours + sla_hours / k / 2, sla_hours / k)
    else:
        edges = np.linspace(0.0, max_hours, bins + 1)
    max_hours = float(edges[-1])
    recolour = "color" not in kwargs and sla_hours is not None
    kwargs.setdefault("color", "tab:blue")
    _, _, patches = ax.hist(np.clip(touched, 0, max_hours), bins=edges, **kwargs)
    if recolour:
        for patch in patches:
            if patch.get_x() >= sla_hours - 1e-9:
                patch.set_facecolor("tab:orange")
    over = int((touched > max_hours).sum())
    ax.set_xlim(0, max_hours)
    ax.set_xlabel(f"MQL to first touch ({clock})")
    ax.set_ylabel("MQLs")
    ax.yaxis.set_major_formatter(_THOUSANDS)
    if sla_hours is not None:
        ax.axvline(
            sla_hours,
            color="tab:red",
            linestyle="--",
            linewidth=1.5,
            label=f"SLA: {sla_hours:g} {clock}",
        )
    untouched = int((~np.isfinite(hours)).sum())
    notes = []
    if over:
        notes.append(f"{over:,} waited over {max_hours:.0f} h (in the last bin)")
    if untouched:
        notes.append(f"{untouched:,} not touched by the end")
    if notes:
        ax.annotate(
            "\n".join(notes),
            (0.98, 0.80),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize="small",
        )
    title = "Response time to MQLs"
    if met is not None and met.notna().any():
        share = float(met.astype("Float64").mean())
        title += f": {share:.1%} within the SLA" + (f" (target {sla_target:.0%})" if sla_target else "")
    ax.set_title(title)
    if sla_hours is not None:
        ax.legend(loc="upper right", fontsize="small")
    return ax


def plot_score_distribution(
    data,
    *,
    won: Sequence[bool] | None = None,
    threshold: float | None = None,
    ax: Axes | None = None,
    bins: int | Sequence[float] | None = None,
    density: bool = True,
    **kwargs,
) -> Axes:
    """Scores of the leads that were won against the others, and the MQL threshold.

    Step histograms, each scaled to its own total (``density=True``) so the two shapes can
    be compared although wins are rare; the legend gives the counts.

    Parameters
    ----------
    data : scores (array), or a ``RunResult`` / lead table (its ``score`` column, which is
        the score at the as-of date: with decay, an old lead's score has faded since it
        became an MQL; a fitted scorecard's points of the judged leads are the fairer
        picture, see notebook 2).
    won : outcomes, one per score (with a lead table: ``customer_at`` is set).
    threshold : the MQL threshold to mark (a ``RunResult``'s rules by default).
    """
    ax = _axes(ax)
    if hasattr(data, "scenario") and threshold is None:
        threshold = data.scenario.rules.mql_threshold
    if isinstance(data, pd.DataFrame) or hasattr(data, "leads"):
        leads = _leads(data)
        score = leads["score"].to_numpy(dtype=float)
        won = leads["customer_at"].notna().to_numpy() if won is None else won
    else:
        score = np.asarray(data, dtype=float)
    if won is None:
        raise ValueError("give won= (one outcome per score)")
    won = np.asarray(won, dtype=bool)
    if won.shape != score.shape:
        raise ValueError(f"won has {won.size} values but there are {score.size} scores")
    ok = np.isfinite(score)
    score, won = score[ok], won[ok]
    if bins is None:
        lo, hi = (float(score.min()), float(score.max())) if score.size else (0.0, 1.0)
        step = max(1.0, np.ceil((hi - lo) / 40))
        bins = np.arange(np.floor(lo), hi + step + 1e-9, step)
    kwargs.setdefault("linewidth", 1.8)
    for mask, label, colour in ((~won, "not won", "tab:grey"), (won, "won", "tab:green")):
        ax.hist(
            score[mask],
            bins=bins,
            density=density,
            histtype="step",
            color=colour,
            label=f"{label} ({int(mask.sum()):,} leads)",
            **kwargs,
        )
    if threshold is not None:
        ax.axvline(
            threshold,
            color="black",
            linestyle="--",
            linewidth=1,
            label=f"MQL threshold {threshold:g}",
        )
    ax.set_xlabel("score (points)")
    ax.set_ylabel("share of leads per point" if density else "leads")
    ax.set_title("Score by outcome")
    ax.legend(fontsize="small")
    return ax


def plot_rep_utilisation(data, *, ax: Axes | None = None, **kwargs) -> Axes:
    """The team's utilisation each month, with the month's SLA compliance beside it.

    Bars: work (first touches and follow-ups) over the reps' working time after shrinkage,
    per month; a month near 100% is a month the queue grew. Line: share of the month's MQLs
    touched within the SLA, and the SLA target (dashed) when the scenario is known.

    Parameters
    ----------
    data : a ``RunResult`` or its monthly ``summary``.
    **kwargs : passed to ``Axes.bar``.
    """
    ax = _axes(ax)
    s = _summary(data)
    if "rep_utilisation" not in s:
        raise KeyError("the summary has no 'rep_utilisation' (only a simulated history knows it)")
    x = np.arange(len(s))
    util = s["rep_utilisation"].to_numpy(dtype=float)
    kwargs.setdefault("color", "tab:orange")
    ax.bar(x, util, label="rep utilisation", **kwargs)
    ax.axhline(1.0, color="grey", linewidth=1)
    if "sla_compliance" in s:
        ax.plot(
            x,
            s["sla_compliance"].to_numpy(dtype=float),
            color="tab:blue",
            marker="o",
            label="MQLs touched within the SLA",
        )
    scenario = getattr(data, "scenario", None)
    if scenario is not None:
        ax.axhline(
            scenario.sla.target,
            color="tab:blue",
            linestyle="--",
            linewidth=1,
            label=f"SLA target {scenario.sla.target:.0%}",
        )
    ax.set_xticks(x, _month_labels(s.index), fontsize="small")
    ax.set_ylim(0, 1.18)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share")
    title = "Rep utilisation and SLA compliance by month"
    if scenario is not None:
        title += f" ({scenario.team.size} reps)"
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small", ncols=3)
    return ax


_METRIC_LABELS = {
    "mqls_per_month": ("MQLs a month", "{:,.0f}"),
    "sla_compliance": ("MQLs touched within the SLA", "{:.1%}"),
    "backlog_at_month_end": ("MQLs waiting at month end", "{:,.0f}"),
    "median_response_hours": ("median hours to first touch", "{:.1f}"),
    "p90_response_hours": ("90th percentile hours to first touch", "{:.1f}"),
    "rep_utilisation": ("rep utilisation", "{:.0%}"),
    "max_backlog": ("largest month-end backlog (MQLs)", "{:,.0f}"),
    "wins": ("wins in the period", "{:,.0f}"),
    "revenue": ("revenue in the period", "{:,.0f}"),
    "wins_per_month": ("wins a month", "{:,.1f}"),
    "revenue_per_month": ("revenue a month", "{:,.0f}"),
}


def _money_formatter(top: float) -> FuncFormatter:
    """Thousands separators, or millions (``12.3M``) for large numbers."""
    if top >= 2e6:
        return FuncFormatter(lambda x, _: f"{x / 1e6:,.{0 if top >= 2e7 else 1}f}M")
    return _THOUSANDS


def plot_scenario_comparison(
    summary: pd.DataFrame,
    metric: str,
    *,
    baseline=None,
    by: str = "scenario",
    target: float | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """One figure of a sweep, side by side per scenario: mean over seeds, with the range.

    Parameters
    ----------
    summary : ``simulate.sweep(...).summary`` (one row per scenario and seed).
    metric : a column of it (``"sla_compliance"``, ``"revenue"``, ...).
    baseline : the scenario to compare with (grey, and its mean is a dashed line).
    by : the column naming the scenarios.
    target : a value to reach (the SLA target, say): a red line, named in the title.
    **kwargs : passed to ``Axes.barh``.
    """
    ax = _axes(ax)
    if metric not in summary:
        raise KeyError(f"the sweep summary has no column {metric!r}")
    g = summary.groupby(by, sort=False)[metric]
    mean, low, high = g.mean(), g.min(), g.max()
    y = np.arange(len(mean))[::-1]
    label, fmt = _METRIC_LABELS.get(metric, (metric.replace("_", " "), "{:,.3g}"))
    top = float(high.max()) if len(high) else 0.0
    percent = fmt.endswith("%}")
    formatter = PercentFormatter(1.0) if percent else _money_formatter(top)
    colours = ["tab:grey" if name == baseline else "tab:blue" for name in mean.index]
    kwargs.setdefault("color", colours)
    ax.barh(y, mean.to_numpy(), xerr=[mean - low, high - mean], capsize=3, **kwargs)

    def show(value: float) -> str:
        return fmt.format(value) if percent or top < 2e6 else formatter(value, None)

    for yi, value, end in zip(y, mean, high, strict=True):
        ax.annotate(
            show(value),
            (end, yi),
            va="center",
            fontsize="small",
            xytext=(5, 0),
            textcoords="offset points",
        )
    if baseline is not None:
        ax.axvline(mean[baseline], color="black", linestyle="--", linewidth=1)
    title = label[0].upper() + label[1:]
    if target is not None:
        ax.axvline(target, color="tab:red", linewidth=1.5)
        title += f" (red line: target {show(target)})"
    ax.set_yticks(y, [plain_text(i) for i in mean.index])
    ax.set_xlim(0, top * 1.25 if top > 0 else 1.0)
    ax.xaxis.set_major_formatter(formatter)
    seeds = summary.groupby(by, sort=False).size()
    ax.set_xlabel(f"mean of {seeds.iloc[0]} seeds; whiskers: range over seeds" if seeds.max() > 1 else "one seed")
    ax.set_title(title)
    return ax


def plot_monthly_comparison(
    monthly: pd.DataFrame,
    metric: str,
    *,
    by: str = "scenario",
    target: float | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """One monthly figure of a sweep, a line per scenario (mean over seeds).

    Parameters
    ----------
    monthly : ``simulate.sweep(...).monthly`` (one row per scenario, seed and month).
    metric : a column of the monthly summary (``"sla_compliance"``, ``"backlog_at_month_end"``...).
    target : a horizontal reference line (the SLA target, say).
    **kwargs : passed to every ``Axes.plot``.
    """
    ax = _axes(ax)
    if metric not in monthly:
        raise KeyError(f"the monthly table has no column {metric!r}")
    months = pd.PeriodIndex(sorted(monthly["month"].astype(str).unique()), freq="M")
    x = np.arange(len(months))
    position = {str(m): i for i, m in enumerate(months)}
    for name, part in monthly.groupby(by, sort=False):
        mean = part.groupby(part["month"].astype(str))[metric].mean()
        ax.plot(
            [position[m] for m in mean.index],
            mean.to_numpy(),
            marker="o",
            ms=3,
            label=plain_text(name),
            **kwargs,
        )
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1, label=f"target {target:.0%}")
    label, fmt = _METRIC_LABELS.get(metric, (metric.replace("_", " "), "{:,.3g}"))
    if metric in ("sla_compliance", "rep_utilisation", "mql_share"):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    else:
        ax.yaxis.set_major_formatter(_money_formatter(float(monthly[metric].max())))
    ax.set_xticks(x, _month_labels(months), fontsize="small")
    ax.set_ylabel(label)
    ax.set_title(plain_text(f"{label[0].upper() + label[1:]} by month"))
    ax.legend(fontsize="small", ncols=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return ax
