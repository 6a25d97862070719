"""``run``: one simulated history of a scenario, as the lead table, the events and a summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulate.behaviour import EventArrays, simulate_events
from simulate.funnel import SalesArrays, simulate_sales
from simulate.leads import LeadArrays, simulate_leads
from simulate.scenario import Scenario
from simulate.scoring import score_stream
from simulate.table import (
    BEHAVIOUR_COLUMNS,
    CATEGORICAL_ATTRIBUTES,
    DEAL_STAGES,
    EVENT_KINDS,
    LEAD_COLUMNS,
    RECYCLE_REASONS,
    validate_events,
    validate_leads,
)
from simulate.truth import BANT, TruthArrays, draw_truth


@dataclass(frozen=True, slots=True, eq=False)
class RunResult:
    """What ``run`` returns.

    Attributes
    ----------
    leads : the lead table (one row per lead, columns documented in ``simulate.table``).
    events : the behaviour stream up to the as-of date: ``lead_id, at, kind``.
    summary : one row per month.
    truth : hidden per-lead truth the analyst never sees in a real CRM (latent fit and
        intent, true chance to buy, bad data, BANT); for checking calibration.
    scenario, seed : what made it.
    """

    leads: pd.DataFrame
    events: pd.DataFrame
    summary: pd.DataFrame
    truth: pd.DataFrame
    scenario: Scenario
    seed: int

    @property
    def as_of(self) -> pd.Timestamp:
        """The date the history is taken at (end of the simulated period)."""
        return pd.Timestamp(self.scenario.end_date, tz="UTC")

    def report(self) -> str:
        """A one-screen text summary: the year's totals and the monthly figures."""
        leads, s = self.leads, self.summary
        mqls = leads["mql_at"].notna()
        team, sla = self.scenario.team, self.scenario.sla
        lines = [
            f"Scenario {self.scenario.name!r}, seed {self.seed}: {self.scenario.start} to "
            f"{self.scenario.end_date} ({self.scenario.months} months)",
            f"  {len(leads):,} leads, {int(mqls.sum()):,} MQLs ({mqls.mean():.1%}), "
            f"{int(leads['returned_at'].notna().sum()):,} back from nurture",
            f"  team of {team.size} ({team.routing}, {team.discipline}), SLA {sla.hours:g} "
            f"{sla.clock} hours for {sla.target:.0%}:\n  met for "
            f"{leads.loc[mqls, 'sla_met'].astype('Float64').mean():.1%} of MQLs, "
            f"mean rep utilisation {s['rep_utilisation'].mean():.0%}",
            f"  {int(leads['customer_at'].notna().sum()):,} wins, revenue "
            f"{leads.loc[leads['customer_at'].notna(), 'amount'].sum():,.0f}",
            "",
        ]
        columns = {
            "leads": "leads",
            "mqls": "MQLs",
            "returned_mqls": "back",
            "sla_compliance": "SLA met",
            "median_response_hours": "med h",
            "p90_response_hours": "p90 h",
            "rep_utilisation": "util",
            "backlog_at_month_end": "backlog",
            "wins": "wins",
            "revenue": "revenue",
        }
        table = s[[c for c in columns if c in s]].rename(columns=columns)
        formats = {
            "SLA met": "{:.0%}".format,
            "util": "{:.0%}".format,
            "revenue": "{:,.0f}".format,
            "med h": "{:.1f}".format,
            "p90 h": "{:.1f}".format,
        }
        lines.append(table.to_string(formatters=formats))
        lines.append("(med h, p90 h: median and 90th percentile first response, calendar hours)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The ``report`` as HTML (notebooks): the year's totals and the monthly table."""
        from html import escape

        leads, s, sc = self.leads, self.summary, self.scenario
        mqls = leads["mql_at"].notna()
        won = leads["customer_at"].notna()
        totals = {
            "leads": f"{len(leads):,}",
            "MQLs": f"{int(mqls.sum()):,} ({mqls.mean():.1%})",
            "back from nurture": f"{int(leads['returned_at'].notna().sum()):,}",
            f"SLA met ({sc.sla.hours:g} {sc.sla.clock} h, target {sc.sla.target:.0%})": (
                f"{leads.loc[mqls, 'sla_met'].astype('Float64').mean():.1%}"
            ),
            f"rep utilisation ({sc.team.size} reps)": f"{s['rep_utilisation'].mean():.0%}"
            if "rep_utilisation" in s
            else "n/a",
            "wins": f"{int(won.sum()):,}",
            "revenue": f"{leads.loc[won, 'amount'].sum():,.0f}",
        }
        head = "".join(f"<th>{escape(k)}</th>" for k in totals)
        row = "".join(f"<td>{escape(v)}</td>" for v in totals.values())
        columns = {
            "leads": ("leads", "{:,.0f}"),
            "mqls": ("MQLs", "{:,.0f}"),
            "returned_mqls": ("back", "{:,.0f}"),
            "sla_compliance": ("SLA met", "{:.0%}"),
            "median_response_hours": ("resp. h (median)", "{:.1f}"),
            "p90_response_hours": ("resp. h (p90)", "{:.1f}"),
            "rep_utilisation": ("utilisation", "{:.0%}"),
            "backlog_at_month_end": ("backlog", "{:,.0f}"),
            "wins": ("wins", "{:,.0f}"),
            "revenue": ("revenue", "{:,.0f}"),
        }
        present = [c for c in columns if c in s]
        table = s[present].rename(columns={c: columns[c][0] for c in present})

        def formatter(fmt: str):
            return lambda v: "" if pd.isna(v) else fmt.format(v)

        formats = {columns[c][0]: formatter(columns[c][1]) for c in present}
        monthly = table.to_html(formatters=formats, border=0, index_names=False)
        return (
            f"<div><b>Simulated history</b>: scenario '{escape(sc.name)}', seed {self.seed}, "
            f"{sc.start} to {sc.end_date} ({sc.months} months)"
            f"<table><tr>{head}</tr><tr>{row}</tr></table>"
            f"<details open><summary>by month</summary>{monthly}</details></div>"
        )

    def __repr__(self) -> str:
        return (
            f"RunResult(scenario={self.scenario.name!r}, seed={self.seed}, "
            f"leads={len(self.leads):,}, events={len(self.events):,}, "
            f"mqls={int(self.leads['mql_at'].notna().sum()):,})"
        )


def to_timestamps(minutes: np.ndarray, start: str) -> pd.DatetimeIndex:
    """Minutes since ``start`` 00:00 UTC to UTC timestamps (whole seconds; ``nan`` -> NaT)."""
    minutes = np.asarray(minutes, dtype=float)
    ok = np.isfinite(minutes)
    secs = np.where(ok, np.round(np.where(ok, minutes, 0.0) * 60.0), 0).astype(np.int64)
    values = np.datetime64(start, "s") + secs.astype("timedelta64[s]")
    values = np.where(ok, values, np.datetime64("NaT"))
    return pd.DatetimeIndex(values.astype("datetime64[ns]")).tz_localize("UTC")


def _categorical(codes: np.ndarray, names) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=list(names))


def run(scenario: Scenario | None = None, seed: int = 0) -> RunResult:
    """Simulate one history of ``scenario`` (the default world if ``None``).

    The same scenario and seed give the same tables, bit for bit. Each part of the world
    draws from its own child of ``SeedSequence(seed)``, so changing, say, the scoring rules
    leaves the leads and their behaviour unchanged (common random numbers for what-ifs).

    Examples
    --------
    >>> result = run(Scenario(months=1), seed=1)
    >>> result.leads[["lead_id", "created_at", "source", "score", "mql_at"]].columns.tolist()
    ['lead_id', 'created_at', 'source', 'score', 'mql_at']
    """
    scenario = Scenario() if scenario is None else scenario
    pop_seed, event_seed, truth_seed, sales_seed = np.random.SeedSequence(seed).spawn(4)
    leads = simulate_leads(scenario, rng=np.random.default_rng(pop_seed))
    events = simulate_events(scenario, leads, rng=np.random.default_rng(event_seed))
    truth = draw_truth(scenario, leads, events.counts, rng=np.random.default_rng(truth_seed))
    return assemble(scenario, leads, events, truth, sales_seed=sales_seed, seed=seed)


def assemble(
    scenario: Scenario,
    leads: LeadArrays,
    events: EventArrays,
    truth: TruthArrays,
    *,
    sales_seed,
    seed,
    mql: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    comeback_at: np.ndarray | None = None,
) -> RunResult:
    """The history of drawn leads, events and truth: scored by the scenario's rules (or at
    the given ``mql`` moments: ``(mql_min, score, mql_score)`` per lead, coming back from
    nurture at ``comeback_at``, see ``simulate_sales``), worked by its team
    and funnel, tabled as ``run`` returns it. ``run`` draws the world from the scenario's
    generating model; ``calibrate.world`` draws it from a history's leads."""
    as_of = scenario.days * 1440.0
    table = _lead_table(scenario, leads, events, as_of)
    fit = scenario.rules.fit_points(table)
    if mql is None:
        mql = score_stream(scenario.rules, fit, leads.created_min, events.offsets, events.t_min, events.kind, as_of)
    mql_min, score, mql_score = mql
    table["score"] = score
    table["mql_at"] = to_timestamps(mql_min, scenario.start)
    sales = simulate_sales(
        scenario,
        leads,
        events,
        truth,
        fit,
        mql_min,
        mql_score,
        rng=np.random.default_rng(sales_seed),
        comeback_at=comeback_at,
    )
    _fill_sales(table, scenario, sales, as_of)
    table = table[list(LEAD_COLUMNS)]
    validate_leads(table, name="simulated lead table")

    seen = events.t_min < as_of
    event_table = pd.DataFrame(
        {
            "lead_id": events.lead[seen] + 1,
            "at": to_timestamps(events.t_min[seen], scenario.start),
            "kind": _categorical(events.kind[seen], EVENT_KINDS),
        }
    )
    validate_events(event_table, leads=table, name="simulated events")
    return RunResult(
        leads=table,
        events=event_table,
        summary=monthly_summary(
            table, as_of=pd.Timestamp(scenario.end_date, tz="UTC"), workload=_workload(scenario, sales)
        ),
        truth=_truth_table(scenario, leads, events, truth),
        scenario=scenario,
        seed=seed if isinstance(seed, int) else -1,
    )


def _lead_table(scenario: Scenario, leads: LeadArrays, events: EventArrays, as_of: float) -> pd.DataFrame:
    cat = leads.categories
    campaign_names = [c.name for c in scenario.arrivals.campaigns]
    campaign = (
        pd.Series(pd.Categorical.from_codes(leads.campaign.astype(np.int64), categories=campaign_names))
        if campaign_names
        else pd.Series(pd.Categorical([None] * leads.n))
    )
    table = pd.DataFrame(
        {
            "lead_id": np.arange(1, leads.n + 1, dtype=np.int64),
            "created_at": to_timestamps(leads.created_min, scenario.start),
            "source": _categorical(leads.source, cat["source"]),
            "campaign": campaign,
            "lead_type": _categorical(leads.lead_type, cat["lead_type"]),
            **{a: _categorical(leads.attributes[a], cat[a]) for a in CATEGORICAL_ATTRIBUTES},
            "company_size": _sizes(leads.company_size),
        }
    )
    # counts of what happened by the as-of date (later events are in the future)
    seen = events.t_min < as_of
    seen_counts = np.zeros((leads.n, len(EVENT_KINDS)), dtype=np.int64)
    np.add.at(seen_counts, (events.lead[seen], events.kind[seen]), 1)
    for j, column in enumerate(BEHAVIOUR_COLUMNS):
        table[column] = seen_counts[:, j]
    return table


def _sizes(company_size: np.ndarray) -> np.ndarray | pd.arrays.IntegerArray:
    """Whole employees; a nullable integer column where some are unknown (a resampled
    history's blanks stay blank)."""
    if np.isnan(company_size).any():
        return pd.array(np.where(np.isnan(company_size), None, np.round(company_size)), dtype="Int64")
    return company_size.astype(np.int64)


def _fill_sales(table: pd.DataFrame, scenario: Scenario, sales: SalesArrays, as_of: float) -> None:
    """The sales-side columns, as the history knows them at the as-of date.

    A lead handed to sales twice (it came back from nurture) keeps the first time it reached
    each stage, the first touch, rep and SLA of its first handoff, and the recycle reason and
    deal of its latest trip.
    """
    n = len(table)
    first = sales.cycle == 0
    again = ~first

    def known(values: np.ndarray) -> np.ndarray:
        return np.where(values <= as_of, values, np.nan)

    def per_lead(values: np.ndarray, fill, dtype=float) -> np.ndarray:
        """The latest trip's value for each lead."""
        out = np.full(n, fill, dtype=dtype)
        out[sales.index[first]] = values[first]
        out[sales.index[again]] = values[again]
        return out

    def earliest(values: np.ndarray) -> pd.DatetimeIndex:
        out = np.full(n, np.nan)
        np.fmin.at(out, sales.index, known(values))
        return to_timestamps(out, scenario.start)

    for name, values in (
        ("sal_at", sales.sal),
        ("sql_at", sales.sql),
        ("opportunity_at", sales.opportunity),
        ("customer_at", np.where(sales.won, sales.closed, np.nan)),
    ):
        table[name] = earliest(values)
    first_touch = np.full(n, np.nan)
    first_touch[sales.index[first]] = known(sales.first_touch[first])
    table["first_touch_at"] = to_timestamps(first_touch, scenario.start)
    returned = np.full(n, np.nan)
    returned[sales.index[again]] = known(sales.handoff[again])
    table["returned_at"] = to_timestamps(returned, scenario.start)

    rep_names = np.asarray(scenario.team.rep_names, dtype=object)
    rep = np.full(n, None, dtype=object)
    owner = first & (sales.rep >= 0)
    rep[sales.index[owner]] = rep_names[sales.rep[owner]]
    table["rep_id"] = pd.array(rep, dtype="string")

    # SLA of the first handoff: met or missed once it is known (touched, or the deadline
    # passed untouched)
    touched = np.isfinite(sales.first_touch) & (sales.first_touch <= as_of)
    decided = first & (touched | (sales.deadline <= as_of))
    met = np.full(n, None, dtype=object)
    met[sales.index[decided]] = (touched & (sales.first_touch <= sales.deadline))[decided]
    table["sla_met"] = pd.array(met, dtype="boolean")

    reason = per_lead(np.where(sales.recycled_at <= as_of, sales.reason, -1), -1, np.int64)
    table["recycled_reason"] = pd.Categorical.from_codes(reason, categories=list(RECYCLE_REASONS))

    code = {s: i for i, s in enumerate(DEAL_STAGES)}
    stage = np.full(sales.index.size, -1)
    stage = np.where(sales.opportunity <= as_of, code["meeting_booked"], stage)
    stage = np.where(sales.proposal <= as_of, code["proposal"], stage)
    stage = np.where(sales.on_hold & (sales.proposal <= as_of), code["on_hold"], stage)
    closed = sales.closed <= as_of
    stage = np.where(closed & sales.won, code["closed_won"], stage)
    stage = np.where(closed & ~sales.won, code["closed_lost"], stage)
    table["deal_stage"] = pd.Categorical.from_codes(per_lead(stage, -1, np.int64), categories=list(DEAL_STAGES))
    table["amount"] = per_lead(np.where(sales.opportunity <= as_of, sales.amount, np.nan), np.nan)
    table["closed_at"] = to_timestamps(per_lead(known(sales.closed), np.nan), scenario.start)
    won = per_lead(np.where(closed, sales.won.astype(float), np.nan), np.nan)
    table["won"] = pd.array(np.where(np.isnan(won), None, won == 1), dtype="boolean")


def _truth_table(scenario: Scenario, leads: LeadArrays, events: EventArrays, truth: TruthArrays) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lead_id": np.arange(1, leads.n + 1, dtype=np.int64),
            "fit": leads.fit,
            "intent": leads.intent,
            "logit": truth.logit,
            "p_buy": truth.p_buy,
            "p_connect": truth.p_connect,
            "p_opportunity": truth.p_opportunity,
            "p_won": truth.p_won,
            "bad_data": leads.bad_data,
            "fit_ok": truth.fit_ok,
            **{name: truth.bant[name] for name in BANT},
            "consideration_at": to_timestamps(events.consideration_min, scenario.start),
            "decision_at": to_timestamps(events.decision_min, scenario.start),
        }
    )


def _month_edges(scenario: Scenario) -> tuple[pd.PeriodIndex, np.ndarray]:
    """Calendar months of the scenario and their edges in minutes since the start."""
    months = pd.period_range(scenario.start_date, periods=scenario.months, freq="M")
    start = pd.Timestamp(scenario.start_date)
    edges = [(p.start_time - start).total_seconds() / 60.0 for p in months]
    edges.append((months[-1].end_time.ceil("D") - start).total_seconds() / 60.0)
    return months, np.asarray(edges)


def _workload(scenario: Scenario, sales: SalesArrays) -> pd.DataFrame:
    """Per month: rep utilisation (work started in the month over the reps' working time
    after shrinkage) and the MQLs still waiting for a first touch at the month's end."""
    from simulate.calendar import working_minutes_between

    months, edges = _month_edges(scenario)
    available = np.zeros(len(months))
    for intervals in sales.rep_intervals:
        available += working_minutes_between(intervals, edges[:-1], edges[1:])
    busy = np.zeros(len(months))
    touched = np.isfinite(sales.first_touch)
    first = np.searchsorted(edges, sales.first_touch[touched], side="right") - 1
    ok = (first >= 0) & (first < len(months))
    np.add.at(busy, first[ok], sales.work_minutes[touched][ok])
    follow = np.searchsorted(edges, sales.attempt_at, side="right") - 1
    ok = (follow >= 0) & (follow < len(months))
    np.add.at(busy, follow[ok], sales.follow_up_minutes[sales.attempt_lead[ok]])
    end = edges[1:, None]
    left_queue = np.where(
        np.isfinite(sales.first_touch), sales.first_touch, np.where(sales.breach_recycled, sales.deadline, np.inf)
    )
    waiting = (sales.handoff[None, :] < end) & (left_queue[None, :] >= end)
    return pd.DataFrame(
        {
            "rep_utilisation": np.divide(busy, available, out=np.full(len(months), np.nan), where=available > 0),
            "backlog_at_month_end": waiting.sum(axis=1),
        },
        index=pd.Index(months, name="month"),
    )


def monthly_summary(
    leads: pd.DataFrame, *, as_of: pd.Timestamp | None = None, workload: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per calendar month, from a lead table (simulated or a CRM history).

    Columns: ``leads`` created, ``existing_customers``, ``campaign_leads``; ``mqls`` (first
    MQL moments in the month), ``returned_mqls`` (leads back from nurture), ``mql_share``
    (share of the month's new leads that became MQLs by the as-of date),
    ``median_hours_to_mql``; for the month's MQLs: ``sla_compliance`` (share touched
    within the SLA, of those decided), ``median_response_hours`` and
    ``p90_response_hours`` (MQL to first touch, calendar hours, touched leads), and the
    stage conversions ``sal_rate`` (SAL / MQL), ``sql_rate`` (SQL / SAL),
    ``opportunity_rate`` (opportunity / SQL) and ``win_rate`` (won / opportunity; recent
    months are not finished); ``wins`` and ``revenue`` by the month the deal closed. With a
    ``workload`` table (from a simulation): ``rep_utilisation`` and ``backlog_at_month_end``.
    """

    def month(column: str) -> pd.Series:
        return leads[column].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")

    created = month("created_at")
    mql_month = month("mql_at")
    hours = (leads["mql_at"] - leads["created_at"]).dt.total_seconds() / 3600.0
    by_created = pd.DataFrame(
        {
            "month": created,
            "existing": leads["lead_type"].astype("object") == "existing_customer",
            "campaign": leads["campaign"].notna() if "campaign" in leads else False,
            "became_mql": leads["mql_at"].notna(),
            "hours": hours,
        }
    ).groupby("month", observed=True)
    out = pd.DataFrame(
        {
            "leads": by_created.size(),
            "existing_customers": by_created["existing"].sum(),
            "campaign_leads": by_created["campaign"].sum(),
        }
    )
    out["mqls"] = mql_month.value_counts().reindex(out.index, fill_value=0)
    if "returned_at" in leads:
        out["returned_mqls"] = month("returned_at").value_counts().reindex(out.index, fill_value=0)
    out["mql_share"] = by_created["became_mql"].mean()
    out["median_hours_to_mql"] = by_created["hours"].median()

    mqls = leads["mql_at"].notna()
    cohort = pd.DataFrame(
        {
            "month": mql_month[mqls],
            "sla_met": leads.loc[mqls, "sla_met"].astype("Float64") if "sla_met" in leads else np.nan,
            "response": (leads.loc[mqls, "first_touch_at"] - leads.loc[mqls, "mql_at"]).dt.total_seconds() / 3600.0,
            **{c: leads.loc[mqls, c].notna() for c in ("sal_at", "sql_at", "opportunity_at")},
            "won": leads.loc[mqls, "customer_at"].notna(),
        }
    ).groupby("month", observed=True)
    count = cohort.size()
    sums = cohort[["sal_at", "sql_at", "opportunity_at", "won"]].sum()
    out["sla_compliance"] = cohort["sla_met"].mean().astype(float)
    out["median_response_hours"] = cohort["response"].median()
    out["p90_response_hours"] = cohort["response"].quantile(0.9)
    out["sal_rate"] = sums["sal_at"] / count
    out["sql_rate"] = sums["sql_at"] / sums["sal_at"].where(sums["sal_at"] > 0)
    out["opportunity_rate"] = sums["opportunity_at"] / sums["sql_at"].where(sums["sql_at"] > 0)
    out["win_rate"] = sums["won"] / sums["opportunity_at"].where(sums["opportunity_at"] > 0)
    won = leads["customer_at"].notna()
    closed_month = month("customer_at")[won]
    out["wins"] = closed_month.value_counts().reindex(out.index, fill_value=0)
    out["revenue"] = leads.loc[won, "amount"].groupby(closed_month).sum().reindex(out.index, fill_value=0.0)
    if workload is not None:
        out = out.join(workload)
    out.index.name = "month"
    return out
