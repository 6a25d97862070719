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
    times never run backwards (created <= MQL <= SAL <= SQL <= opportunity <= customer).
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
        if col.name not in leads.columns:
            continue
        s = leads[col.name]
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
                        f"{name}: column {col.name!r} must hold whole counts >= 0, "
                        f"got {_show(values[row])} in row {row}"
                    )
        elif col.kind == "bool":
            if not (pd.api.types.is_bool_dtype(s) or s.isna().all()):
                raise LeadTableError(f"{name}: column {col.name!r} must be true/false, got dtype {s.dtype}")
    present = [c for c in LIFECYCLE_ORDER if c in leads.columns]
    for a, b in zip(present, present[1:]):
        backwards = (leads[b] < leads[a]).to_numpy(dtype=bool, na_value=False)
        if backwards.any():
            row = int(np.flatnonzero(backwards)[0])
            raise LeadTableError(
                f"{name}: column {b!r} is earlier than {a!r} in row {row} (lead_id {_show(leads['lead_id'].iloc[row])})"
            )
    return leads


def _show(value) -> str:
    """A cell for a message: plain Python repr, not numpy's."""
    return repr(value.item() if hasattr(value, "item") else value)


def _first(mask: pd.Series) -> int:
    return int(np.flatnonzero(mask.to_numpy())[0])
