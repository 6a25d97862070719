"""Replay the past: a fitted world run under the rules the history was made with, month by
month against what the history shows (``seeds`` >= 2).

A world that cannot reproduce its own past should not be trusted with the future. The months
compared are those of the MQL window; outcomes are counted as the history knew them at its
as-of date, and the replay runs until then.
``replay(history, world)`` simulates ``seeds`` new versions of the history's months in the
world (its MQL moments as recorded, when the rules in force are not known) and sets, per
calendar month and for the whole window, the observed figure beside the replayed mean and
the range of 95% of replayed years. A figure whose observed value lies outside that range is
flagged: the world gets it wrong.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.inputs import as_history
from simulate import seeding
from simulate.calendar import DAYS_PER_MONTH

__all__ = ["REPLAY_FIGURES", "Replay", "replay"]

REPLAY_FIGURES = {
    "mqls": "MQLs",
    "sla_compliance": "SLA met (share)",
    "median_response_hours": "median response (calendar h)",
    "sqls": "SQLs",
    "wins": "wins",
}
"""The figures compared, by MQL month (SQLs and wins: of that month's MQLs)."""


@dataclass(frozen=True, slots=True, eq=False)
class Replay:
    """Observed against replayed, per month and in total.

    ``table`` has one row per month (and ``"total"``) and figure: ``observed, replayed,
    low, high`` (where 95% of years of the world fall: the replayed mean +- 1.96 sd
    ``sqrt(1 + 1/seeds)``), ``inside`` and ``relative_gap`` (replayed mean
    over observed, minus one). ``flags`` lists the figures of the whole window that do not
    match.
    """

    table: pd.DataFrame
    seeds: int

    @property
    def totals(self) -> pd.DataFrame:
        return self.table[self.table["month"] == "total"].set_index("figure")

    @property
    def flags(self) -> list[str]:
        t = self.totals
        return [REPLAY_FIGURES[f] for f in t.index[~t["inside"].astype(bool)]]

    def summary(self) -> str:
        """The whole window's figures, observed against replayed, under 80 columns."""
        lines = [f"Replay of the history in its fitted world ({self.seeds} replayed years)"]
        lines.append(f"  {'figure':<30}{'observed':>10}{'replayed':>10}  {'95% of years':<16}")
        for figure, row in self.totals.iterrows():
            fmt = "{:.1%}" if figure == "sla_compliance" else "{:,.1f}" if "hours" in figure else "{:,.0f}"
            rng = f"{fmt.format(row['low'])} to {fmt.format(row['high'])}"
            mark = "" if row["inside"] else "  << off"
            lines.append(
                f"  {REPLAY_FIGURES[figure]:<30}{fmt.format(row['observed']):>10}"
                f"{fmt.format(row['replayed']):>10}  {rng:<16}{mark}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def monthly_figures(leads: pd.DataFrame, months: pd.PeriodIndex, until: pd.Timestamp | None = None) -> pd.DataFrame:
    """``REPLAY_FIGURES`` per MQL month of a lead table (``months`` as rows, the total over
    them last), with outcomes as known at ``until`` (default: all)."""
    month_of = leads["mql_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    leads = leads[month_of.isin(months)]
    if until is not None:
        leads = leads.copy()
        for column in ("sql_at", "customer_at"):
            if column in leads:
                leads[column] = leads[column].where(leads[column] <= until)
    mql = leads["mql_at"].notna()
    month = leads.loc[mql, "mql_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    cohort = leads[mql]
    response = (cohort["first_touch_at"] - cohort["mql_at"]).dt.total_seconds() / 3600.0
    frame = pd.DataFrame(
        {
            "month": month,
            "sla": cohort["sla_met"].astype("Float64") if "sla_met" in cohort else np.nan,
            "response": response,
            "sql": cohort["sql_at"].notna() if "sql_at" in cohort else False,
            "won": cohort["customer_at"].notna() if "customer_at" in cohort else False,
        }
    )
    g = frame.groupby("month", observed=True)
    out = pd.DataFrame(
        {
            "mqls": g.size(),
            "sla_compliance": g["sla"].mean().astype(float),
            "median_response_hours": g["response"].median(),
            "sqls": g["sql"].sum(),
            "wins": g["won"].sum(),
        }
    ).reindex(months)
    out[["mqls", "sqls", "wins"]] = out[["mqls", "sqls", "wins"]].fillna(0)
    total = {
        "mqls": float(mql.sum()),
        "sla_compliance": float(frame["sla"].mean()) if frame["sla"].notna().any() else np.nan,
        "median_response_hours": float(frame["response"].median()),
        "sqls": float(frame["sql"].sum()),
        "wins": float(frame["won"].sum()),
    }
    out.loc["total"] = total
    out.index = out.index.astype(str)
    return out


def until_outcomes(world):
    """The world run as long as its history's outcomes were observed (to its as-of date,
    later than its last MQLs), and that date: what a replay compares with the history
    (the extra months' leads are not compared)."""
    end = pd.Timestamp(world.scenario.end_date, tz="UTC")
    extra = max(0, math.ceil((world.outcome_end - end) / pd.Timedelta(days=DAYS_PER_MONTH)))
    longer = world.replace(months=min(120, world.months + extra)) if extra else world
    return longer, world.outcome_end


def replay(history, world, *, seeds: int = 10, seed: int = 2000) -> Replay:
    """Replay ``history`` in ``world`` (see the module docstring).

    Parameters
    ----------
    history : the history the world was fitted to (or any lead table of its months).
    world : a ``calibrate.FittedWorld``; its rules as they stand (the history's own MQL
        moments when it was fitted without rules).
    seeds, seed : replayed years (children of ``seed``).
    """
    if seeds < 2:
        raise ValueError(f"replay needs at least 2 seeds to give a range, got {seeds}")
    history = as_history(history)
    first, last = world.mql_window
    months = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq="M")
    observed = monthly_figures(history.leads, months)
    longer, until = until_outcomes(world)
    runs = [monthly_figures(longer.run(int(s)).leads, months, until) for s in seeding.seed_list(seeds, seed=seed)]
    stack = np.stack([r.to_numpy(dtype=float) for r in runs])
    with warnings.catch_warnings():  # a figure no replayed year has (no MQL that month): nan
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(stack, axis=0)
        sd = np.nanstd(stack, axis=0, ddof=1)
    # the range of 95% of new years: a normal prediction interval from the replayed years
    spread = 1.96 * sd * np.sqrt(1.0 + 1.0 / len(runs))
    low, high = mean - spread, mean + spread
    rows = []
    for i, month in enumerate(observed.index):
        for j, figure in enumerate(observed.columns):
            obs = float(observed.iat[i, j])
            inside = bool(np.isnan(obs) or (low[i, j] - 1e-9 <= obs <= high[i, j] + 1e-9))
            gap = mean[i, j] / obs - 1 if obs else np.nan
            rows.append((month, figure, obs, mean[i, j], low[i, j], high[i, j], inside, gap))
    table = pd.DataFrame(
        rows, columns=["month", "figure", "observed", "replayed", "low", "high", "inside", "relative_gap"]
    )
    return Replay(table=table, seeds=int(seeds))
