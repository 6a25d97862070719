"""``run``: one simulated history of a scenario, as the lead table, the events and a summary."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulate.behaviour import EventArrays, simulate_events
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
    pop_seed, event_seed, truth_seed = np.random.SeedSequence(seed).spawn(3)
    leads = simulate_leads(scenario, rng=np.random.default_rng(pop_seed))
    events = simulate_events(scenario, leads, rng=np.random.default_rng(event_seed))
    truth = draw_truth(scenario, leads, events.counts, rng=np.random.default_rng(truth_seed))
    as_of = scenario.days * 1440.0

    table = _lead_table(scenario, leads, events, as_of)
    fit = scenario.rules.fit_points(table)
    mql_min, score = score_stream(
        scenario.rules, fit, leads.created_min, events.offsets, events.t_min, events.kind, as_of
    )
    table["score"] = score
    table["mql_at"] = to_timestamps(mql_min, scenario.start)
    _empty_later_stages(table)
    table = table[list(LEAD_COLUMNS)]
    validate_leads(table, name="simulated lead table")

    seen = events.t_min < as_of
    event_table = pd.DataFrame({
        "lead_id": events.lead[seen] + 1,
        "at": to_timestamps(events.t_min[seen], scenario.start),
        "kind": _categorical(events.kind[seen], EVENT_KINDS),
    })  # fmt: skip
    return RunResult(
        leads=table,
        events=event_table,
        summary=monthly_summary(table, as_of=pd.Timestamp(scenario.end_date, tz="UTC")),
        truth=_truth_table(scenario, leads, events, truth),
        scenario=scenario,
        seed=seed if isinstance(seed, int) else -1,
    )


def _lead_table(scenario: Scenario, leads: LeadArrays, events: EventArrays, as_of: float) -> pd.DataFrame:
    cat = leads.categories
    campaign_names = [c.name for c in scenario.arrivals.campaigns]
    campaign = pd.Series(pd.Categorical.from_codes(leads.campaign.astype(np.int64), categories=campaign_names)) if campaign_names else pd.Series(pd.Categorical([None] * leads.n))
    table = pd.DataFrame({
        "lead_id": np.arange(1, leads.n + 1, dtype=np.int64),
        "created_at": to_timestamps(leads.created_min, scenario.start),
        "source": _categorical(leads.source, cat["source"]),
        "campaign": campaign,
        "lead_type": _categorical(leads.lead_type, cat["lead_type"]),
        **{a: _categorical(leads.attributes[a], cat[a]) for a in CATEGORICAL_ATTRIBUTES},
        "company_size": leads.company_size.astype(np.int64),
    })  # fmt: skip
    # counts of what happened by the as-of date (later events are in the future)
    seen = events.t_min < as_of
    seen_counts = np.zeros((leads.n, len(EVENT_KINDS)), dtype=np.int64)
    np.add.at(seen_counts, (events.lead[seen], events.kind[seen]), 1)
    for j, column in enumerate(BEHAVIOUR_COLUMNS):
        table[column] = seen_counts[:, j]
    return table


def _empty_later_stages(table: pd.DataFrame) -> None:
    """Columns filled by the sales side of the funnel; empty until it is simulated."""
    nat = pd.Series(pd.NaT, index=table.index, dtype="datetime64[ns, UTC]")
    for column in ("sal_at", "sql_at", "opportunity_at", "customer_at", "first_touch_at", "closed_at"):
        table[column] = nat
    table["rep_id"] = pd.Series(pd.NA, index=table.index, dtype="string")
    table["sla_met"] = pd.Series(pd.NA, index=table.index, dtype="boolean")
    table["recycled_reason"] = pd.Categorical([None] * len(table), categories=list(RECYCLE_REASONS))
    table["deal_stage"] = pd.Categorical([None] * len(table), categories=list(DEAL_STAGES))
    table["amount"] = np.nan
    table["won"] = pd.Series(pd.NA, index=table.index, dtype="boolean")


def _truth_table(scenario: Scenario, leads: LeadArrays, events: EventArrays, truth: TruthArrays) -> pd.DataFrame:
    return pd.DataFrame({
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
    })  # fmt: skip


def monthly_summary(leads: pd.DataFrame, *, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Per calendar month: new leads, MQLs and how fast leads became MQLs.

    Columns: ``leads`` (created in the month), ``existing_customers``, ``campaign_leads``,
    ``mqls`` (MQL moments in the month), ``mql_share`` (share of the month's new leads that
    became MQLs by the as-of date), ``median_hours_to_mql``.
    """
    created = leads["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    mql_month = leads["mql_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    hours = (leads["mql_at"] - leads["created_at"]).dt.total_seconds() / 3600.0
    by_created = pd.DataFrame({
        "month": created,
        "existing": leads["lead_type"].astype("object") == "existing_customer",
        "campaign": leads["campaign"].notna() if "campaign" in leads else False,
        "became_mql": leads["mql_at"].notna(),
        "hours": hours,
    }).groupby("month", observed=True)  # fmt: skip
    out = pd.DataFrame({
        "leads": by_created.size(),
        "existing_customers": by_created["existing"].sum(),
        "campaign_leads": by_created["campaign"].sum(),
    })  # fmt: skip
    out["mqls"] = mql_month.value_counts().reindex(out.index, fill_value=0)
    out["mql_share"] = by_created["became_mql"].mean()
    out["median_hours_to_mql"] = by_created["hours"].median()
    out.index.name = "month"
    return out
