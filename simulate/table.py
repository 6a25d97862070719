"""The lead table: the contract between ``simulate`` and ``calibrate``, documented once here.

One row per lead, the same whether simulated or loaded from a CRM export. ``LEAD_COLUMNS``
lists every column with its kind and meaning; ``validate_leads`` checks a table against it at
every boundary (after a run, before a fit). The optional events table holds the behaviour
stream the count columns summarise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EVENT_KINDS = (
    "page_view",
    "pricing_page_view",
    "email_click",
    "form_submission",
    "early_content_download",
    "late_content_download",
    "webinar",
    "demo_request",
)
"""Behaviour event kinds, in the order used for integer kind codes."""

BEHAVIOUR_COLUMNS = tuple(f"{kind}s" for kind in EVENT_KINDS)
"""Count column of each event kind (``page_view`` -> ``page_views``)."""

KIND_STAGE = {
    "page_view": "awareness",
    "pricing_page_view": "decision",
    "email_click": "awareness",
    "form_submission": "consideration",
    "early_content_download": "awareness",
    "late_content_download": "decision",
    "webinar": "consideration",
    "demo_request": "decision",
}
"""The buyer-journey stage each kind of content or action belongs to."""

CATEGORICAL_ATTRIBUTES = ("job_level", "industry", "region", "email_domain")
LEAD_TYPES = ("new_business", "existing_customer")
RECYCLE_REASONS = (
    "unreachable",
    "bad_data",
    "no_bant",
    "not_a_fit",
    "returned_not_ready",
    "sla_breach",
)
DEAL_STAGES = ("meeting_booked", "proposal", "closed_won", "closed_lost", "on_hold")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of the lead table: its name, kind, whether required, and what it holds."""

    name: str
    kind: str  # "id", "time", "category", "number", "count", "bool", "text"
    meaning: str
    required: bool = True  # a CRM export must have it (others may be missing or empty)


LEAD_SCHEMA: tuple[Column, ...] = (
    Column("lead_id", "id", "unique lead identifier"),
    Column("created_at", "time", "when the lead was created (UTC)"),
    Column("source", "category", "original marketing source"),
    Column("campaign", "text", "campaign burst that brought the lead, if any", False),
    Column("lead_type", "category", "new_business or existing_customer"),
    Column("job_level", "category", "fit: seniority of the contact", False),
    Column("industry", "category", "fit: industry of the company", False),
    Column("company_size", "number", "fit: employees of the company", False),
    Column("region", "category", "fit: sales region", False),
    Column("email_domain", "category", "fit: business, personal or disposable e-mail", False),
    *(
        Column(c, "count", f"behaviour: number of {k.replace('_', ' ')} events up to the as-of date", False)
        for k, c in zip(EVENT_KINDS, BEHAVIOUR_COLUMNS)
    ),
    Column("score", "number", "lead score at the as-of date under the rules in force", False),
    Column("mql_at", "time", "first moment the score met the MQL rule", False),
    Column("returned_at", "time", "came back from nurture as an MQL again (after a recycle)", False),
    Column("sal_at", "time", "sales accepted the lead", False),
    Column("sql_at", "time", "sales qualified the lead (BANT confirmed)", False),
    Column("opportunity_at", "time", "an opportunity was opened", False),
    Column("customer_at", "time", "the deal was won", False),
    Column("rep_id", "text", "rep who owns the lead", False),
    Column("first_touch_at", "time", "first sales contact attempt", False),
    Column("sla_met", "bool", "first touch within the SLA", False),
    Column("recycled_reason", "category", f"why it went back to marketing: {', '.join(RECYCLE_REASONS)}", False),
    Column("deal_stage", "category", f"latest deal stage: {', '.join(DEAL_STAGES)}", False),
    Column("amount", "number", "deal amount (won or expected)", False),
    Column("closed_at", "time", "when the deal closed, won or lost", False),
    Column("won", "bool", "the deal was won", False),
)

LEAD_COLUMNS = tuple(c.name for c in LEAD_SCHEMA)
TIME_COLUMNS = tuple(c.name for c in LEAD_SCHEMA if c.kind == "time")
LIFECYCLE_ORDER = ("created_at", "mql_at", "sal_at", "sql_at", "opportunity_at", "customer_at")

EVENT_SCHEMA: tuple[Column, ...] = (
    Column("lead_id", "id", "the lead that did it"),
    Column("at", "time", "when (UTC)"),
    Column("kind", "category", f"one of {', '.join(EVENT_KINDS)}"),
)


def reached_stages(leads: pd.DataFrame) -> pd.DataFrame:
    """Which lifecycle stages each lead reached: one boolean column per stage of
    ``LIFECYCLE_ORDER`` present in ``leads`` (in that order).

    A lead counts at a stage when that stage or any later one is set: an existing customer
    who skipped a step still went through it. Stage counts in plots and the funnel
    conversion of the diagnostics are sums of this table.

    Examples
    --------
    >>> t = pd.Timestamp("2026-01-01", tz="UTC")
    >>> leads = pd.DataFrame({"created_at": [t, t], "mql_at": [pd.NaT, pd.NaT], "sql_at": [t, pd.NaT]})
    >>> reached_stages(leads).sum().to_dict()
    {'created_at': 2, 'mql_at': 1, 'sql_at': 1}
    """
    stages = [c for c in LIFECYCLE_ORDER if c in leads.columns]
    reached = {}
    later = np.zeros(len(leads), dtype=bool)
    for column in reversed(stages):
        later = later | leads[column].notna().to_numpy()
        reached[column] = later
    return pd.DataFrame({c: reached[c] for c in stages}, index=leads.index)


def describe_columns() -> pd.DataFrame:
    """The documented lead-table columns as a table (name, kind, required, meaning)."""
    return pd.DataFrame(
        [(c.name, c.kind, c.required, c.meaning) for c in LEAD_SCHEMA],
        columns=["column", "kind", "required", "meaning"],
    )


class LeadTableError(ValueError):
    """A lead table that breaks the contract; the message names the column and row."""


def validate_leads(leads: pd.DataFrame, *, name: str = "lead table") -> pd.DataFrame:
    """Check a lead table against ``LEAD_SCHEMA``; return it unchanged or raise ``LeadTableError``.

    Checks that required columns exist, ids are unique, times are timezone-aware
    timestamps, counts are non-negative whole numbers, booleans are booleans, and lifecycle
    times never run backwards: of any two stages of ``LIFECYCLE_ORDER`` (created, MQL, SAL,
    SQL, opportunity, customer) that a lead has both reached, the later is never earlier,
    whether or not the stages between them are filled.

    Parameters
    ----------
    leads : the lead table (extra columns are allowed and not checked).
    name : what the table is called in messages (a file name, "simulated lead table").

    Returns
    -------
    DataFrame
        ``leads`` itself.

    Examples
    --------
    >>> t = pd.to_datetime(["2026-01-05", "2026-01-07", None, "2026-01-06"], utc=True)
    >>> leads = pd.DataFrame({"lead_id": [7], "created_at": t[:1], "source": ["web"],
    ...                       "lead_type": ["new_business"], "mql_at": t[1:2],
    ...                       "sal_at": t[2:3], "sql_at": t[3:]})
    >>> validate_leads(leads)
    Traceback (most recent call last):
    ...
    simulate.table.LeadTableError: lead table: column 'sql_at' is earlier than 'mql_at' in row 0 (lead_id 7):
    sql_at 2026-01-06 00:00:00+00:00, mql_at 2026-01-07 00:00:00+00:00
    """
    missing = [c.name for c in LEAD_SCHEMA if c.required and c.name not in leads.columns]
    if missing:
        raise LeadTableError(f"{name}: required column {missing[0]!r} is missing")
    ids = leads["lead_id"]
    if ids.isna().any():
        raise LeadTableError(f"{name}: column 'lead_id' is empty in row {_first(ids.isna())}")
    dup = ids.duplicated()
    if dup.any():
        row = _first(dup)
        raise LeadTableError(f"{name}: column 'lead_id' repeats {_show(ids.iloc[row])} in row {row}")
    for col in LEAD_SCHEMA:
        if col.name in leads.columns:
            _check_kind(leads[col.name], col, name)
    backwards = _lifecycle_backwards(leads)
    if backwards is not None:
        row, a, b = backwards
        raise LeadTableError(
            f"{name}: column {b!r} is earlier than {a!r} in row {row} (lead_id {_show(ids.iloc[row])}): "
            f"{b} {leads[b].iloc[row]}, {a} {leads[a].iloc[row]}"
        )
    return leads


def _check_kind(s: pd.Series, col: Column, name: str) -> None:
    """The values of one documented column are of its kind."""
    if col.kind == "time":
        if not isinstance(s.dtype, pd.DatetimeTZDtype):
            raise LeadTableError(
                f"{name}: column {col.name!r} must hold timezone-aware timestamps, got dtype {s.dtype}"
            )
    elif col.kind in ("count", "number"):
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            raise LeadTableError(f"{name}: column {col.name!r} must be numeric, got dtype {s.dtype}")
        if col.kind == "count":
            values = s.to_numpy(dtype=float, na_value=np.nan)
            bad = (values < 0) | (np.mod(values, 1) != 0)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                raise LeadTableError(
                    f"{name}: column {col.name!r} must hold whole counts >= 0, got {_show(values[row])} in row {row}"
                )
    elif col.kind == "bool":
        if not (pd.api.types.is_bool_dtype(s) or s.isna().all()):
            raise LeadTableError(f"{name}: column {col.name!r} must be true/false, got dtype {s.dtype}")


def _lifecycle_backwards(leads: pd.DataFrame) -> tuple[int, str, str] | None:
    """The first lead with a later stage before an earlier one: ``(row, earlier, later)``.

    Every ordered pair of ``LIFECYCLE_ORDER`` columns is compared, one vectorised comparison
    per pair (a missing time compares as not earlier). The row is the first that breaks any
    pair; of its broken pairs, the one with the earliest later stage, and of those the
    nearest earlier stage.
    """
    present = [c for c in LIFECYCLE_ORDER if c in leads.columns]
    pairs = [(a, b) for j, b in enumerate(present) for a in reversed(present[:j])]
    if not pairs:
        return None
    broken = np.column_stack([(leads[b] < leads[a]).to_numpy(dtype=bool, na_value=False) for a, b in pairs])
    rows = np.flatnonzero(broken.any(axis=1))
    if rows.size == 0:
        return None
    row = int(rows[0])
    a, b = pairs[int(np.argmax(broken[row]))]
    return row, a, b


def validate_events(events: pd.DataFrame, *, leads: pd.DataFrame | None = None, name: str = "events") -> pd.DataFrame:
    """Check an events table against ``EVENT_SCHEMA``; return it unchanged or raise ``LeadTableError``.

    Checks that ``lead_id``, ``at`` and ``kind`` exist and are never missing, that ``at``
    holds timezone-aware timestamps and ``kind`` one of ``EVENT_KINDS``; with ``leads``,
    that every event belongs to a lead of the table and none comes before its lead's
    ``created_at``.

    Parameters
    ----------
    events : one row per behaviour event (extra columns are allowed and not checked).
    leads : the lead table the events belong to, if it is to be checked against.
    name : what the table is called in messages.

    Returns
    -------
    DataFrame
        ``events`` itself.

    Examples
    --------
    >>> t = pd.to_datetime(["2026-01-05 00:00", "2026-01-06 00:00", "2026-01-05 10:00"], utc=True)
    >>> leads = pd.DataFrame({"lead_id": [1, 2], "created_at": t[:2]})
    >>> events = pd.DataFrame({"lead_id": [1, 2], "at": t[[2, 0]], "kind": ["page_view", "webinar"]})
    >>> validate_events(events, leads=leads)
    Traceback (most recent call last):
    ...
    simulate.table.LeadTableError: events: column 'at' is earlier than the lead's created_at in row 1 (lead_id 2):
    at 2026-01-05 00:00:00+00:00, created_at 2026-01-06 00:00:00+00:00
    """
    missing = [c.name for c in EVENT_SCHEMA if c.name not in events.columns]
    if missing:
        raise LeadTableError(f"{name}: required column {missing[0]!r} is missing")
    for col in EVENT_SCHEMA:
        empty = events[col.name].isna()
        if empty.any():
            raise LeadTableError(f"{name}: column {col.name!r} is empty in row {_first(empty)}")
    at, kind = events["at"], events["kind"]
    if not isinstance(at.dtype, pd.DatetimeTZDtype):
        raise LeadTableError(f"{name}: column 'at' must hold timezone-aware timestamps, got dtype {at.dtype}")
    unknown = ~kind.isin(EVENT_KINDS)
    if unknown.any():
        row = _first(unknown)
        raise LeadTableError(
            f"{name}: column 'kind' must hold one of {', '.join(EVENT_KINDS)}, got {_show(kind.iloc[row])} in row {row}"
        )
    if leads is not None:
        _check_event_leads(events, leads, name)
    return events


def _check_event_leads(events: pd.DataFrame, leads: pd.DataFrame, name: str) -> None:
    """Every event belongs to a lead of ``leads`` and comes no earlier than its creation."""
    for column in ("lead_id", "created_at"):
        if column not in leads.columns:
            raise LeadTableError(f"{name}: the lead table has no column {column!r} to check the events against")
    index = pd.Index(leads["lead_id"])
    if not index.is_unique:
        row = _first(leads["lead_id"].duplicated())
        raise LeadTableError(
            f"{name}: the lead table's column 'lead_id' repeats {_show(index[row])} in row {row}, "
            "so events cannot be matched to leads"
        )
    ids = events["lead_id"]
    position = index.get_indexer(ids)
    if (position < 0).any():
        row = int(np.flatnonzero(position < 0)[0])
        raise LeadTableError(
            f"{name}: column 'lead_id' holds {_show(ids.iloc[row])} in row {row}, which is not a lead of the lead table"
        )
    at = events["at"].reset_index(drop=True)
    created = leads["created_at"].iloc[position].reset_index(drop=True)
    before = (at < created).to_numpy(dtype=bool, na_value=False)
    if before.any():
        row = int(np.flatnonzero(before)[0])
        raise LeadTableError(
            f"{name}: column 'at' is earlier than the lead's created_at in row {row} (lead_id {_show(ids.iloc[row])}): "
            f"at {at.iloc[row]}, created_at {created.iloc[row]}"
        )


def _show(value) -> str:
    """A cell for a message: plain Python repr, not numpy's."""
    return repr(value.item() if hasattr(value, "item") else value)


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])
