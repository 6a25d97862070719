"""Reading a lead history: a CRM export (CSV or DataFrame) into the lead table.

``load_history`` maps the export's columns onto the lead table (``simulate.table``) with a
``ColumnMapping``: built in for a HubSpot contacts export (``"hubspot"``) and a Salesforce
leads export (``"salesforce"``), or your own. It parses every value, and every input row is
either in ``History.leads`` or in ``History.rejects`` with its reason. A file that is bad as
a whole (empty, wrong delimiter or encoding, a missing column, a column of the wrong type,
too many bad rows) raises one ``HistoryError`` that names the column and the row.

Rows: ``row`` counts data rows from 0 (the first row under the header is row 0); in a CSV
file that is ``line = row + 2`` (the header is line 1), which messages also give.

Limits: a time outside ``PLAUSIBLE_TIMES`` (1980 to 2099: a placeholder such as 1970-01-01 or
a typed year), after the given ``as_of`` (in the future), a number that is not finite or
larger than ``MAX_NUMBER`` in size, and a duplicated header name are bad values, never
silently used.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simulate.table import LEAD_SCHEMA, LIFECYCLE_ORDER, LeadTableError, validate_leads

REQUIRED = tuple(c.name for c in LEAD_SCHEMA if c.required)
KIND = {c.name: c.kind for c in LEAD_SCHEMA}
CONVERTERS = ("snake", "job_title", "email", "employees", "bool")
PLAUSIBLE_TIMES = (pd.Timestamp("1980-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))
"""Times outside ``[start, end)`` are rejected: a placeholder date or a mistyped year."""
MAX_NUMBER = 1e15
"""Numbers (and counts) larger than this in size are rejected: beyond it a float is no longer
exact to the unit, and no lead has that many page views or that large a deal."""


class HistoryError(ValueError):
    """A history that cannot be read; the message names the file, the column and the row."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnMapping:
    """How an export's columns map onto the lead table.

    Parameters
    ----------
    name : a label for messages.
    columns : lead-table column -> export column, or a tuple of candidates (the first
        present is used; names match without regard to case or surrounding spaces).
    date_formats : lead-table time column -> ``strftime`` format (default ISO 8601, with or
        without a time and an offset).
    timezone : the zone of times written without an offset (CRMs export in the account's
        zone); times with an offset (``Z``, ``+01:00``) keep theirs. Stored as UTC.
    converters : lead-table column -> a named converter: ``"snake"`` (``"Paid Search"`` ->
        ``"paid_search"``), ``"job_title"`` (title -> job level), ``"email"`` (address ->
        business, personal or disposable), ``"employees"`` (``"51-200"`` -> 101), ``"bool"``
        (yes/no, true/false, 1/0, won/lost).
    defaults : a value for a lead-table column the export lacks; by default every lead is
        ``lead_type="new_business"`` unless the export has the column.
    na_values : extra text that means missing (for example ``"Select"``).
    keep_extra : keep the export's other columns (under their own names) as candidate
        features; ``calibrate.make_labels`` screens them for leakage.
    drop : export columns to leave out (a second id, free text, personal data).
    """

    name: str = "custom"
    columns: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    date_formats: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"
    converters: Mapping[str, str] = field(default_factory=dict)
    defaults: Mapping[str, object] = field(default_factory=lambda: {"lead_type": "new_business"})
    na_values: tuple[str, ...] = ()
    keep_extra: bool = True
    drop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for target in (*self.columns, *self.date_formats, *self.converters, *self.defaults):
            if target not in KIND:
                raise ValueError(f"ColumnMapping {self.name!r}: {target!r} is not a lead-table column")
        for target, conv in self.converters.items():
            if conv not in CONVERTERS:
                raise ValueError(
                    f"ColumnMapping {self.name!r}: converter {conv!r} for {target!r} is not one of {CONVERTERS}"
                )
        for target in self.date_formats:
            if KIND[target] != "time":
                raise ValueError(f"ColumnMapping {self.name!r}: {target!r} is not a time column")
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"ColumnMapping {self.name!r}: timezone {self.timezone!r} is not a known time zone"
            ) from None

    def replace(self, **changes) -> ColumnMapping:
        """A copy with some fields changed (for example ``timezone``)."""
        return replace(self, **changes)


def hubspot_contacts(timezone: str = "UTC") -> ColumnMapping:
    """A HubSpot contacts export (column labels or internal property names).

    HubSpot writes times in the account's time zone without an offset: pass it as
    ``timezone``. Lifecycle dates come from the "Became a ... Date" properties, the win from
    "Became a Customer Date", the first touch from "Date of first engagement".
    """
    return ColumnMapping(
        name="hubspot",
        columns={
            "lead_id": ("Record ID", "Contact ID", "hs_object_id", "vid"),
            "created_at": ("Create Date", "createdate"),
            "source": ("Original Source", "hs_analytics_source"),
            "job_level": ("Job Title", "jobtitle"),
            "industry": ("Industry", "industry"),
            "company_size": ("Number of Employees", "numemployees"),
            "region": ("Country/Region", "Country", "country"),
            "email_domain": ("Email", "email"),
            "page_views": ("Number of Pageviews", "hs_analytics_num_page_views"),
            "form_submissions": ("Number of Form Submissions", "num_conversion_events"),
            "email_clicks": ("Marketing emails clicked", "hs_email_click"),
            "score": ("HubSpot Score", "hubspotscore"),
            "mql_at": ("Became a Marketing Qualified Lead Date", "hs_lifecyclestage_marketingqualifiedlead_date"),
            "sql_at": ("Became a Sales Qualified Lead Date", "hs_lifecyclestage_salesqualifiedlead_date"),
            "opportunity_at": ("Became an Opportunity Date", "hs_lifecyclestage_opportunity_date"),
            "customer_at": ("Became a Customer Date", "hs_lifecyclestage_customer_date"),
            "first_touch_at": ("Date of first engagement", "hs_sa_first_engagement_date"),
            "rep_id": ("Contact owner", "hubspot_owner_id"),
            "amount": ("Recent Deal Amount", "recent_deal_amount"),
            "closed_at": ("Recent Deal Close Date", "recent_deal_close_date"),
        },
        converters={
            "source": "snake",
            "job_level": "job_title",
            "industry": "snake",
            "company_size": "employees",
            "email_domain": "email",
        },
        defaults={"lead_type": "new_business"},
        timezone=timezone,
    )


def salesforce_leads(timezone: str = "UTC") -> ColumnMapping:
    """A Salesforce leads export (API field names, as Data Loader writes them, or labels).

    The MQL, SAL and SQL dates are the custom fields most orgs add (``MQL_Date__c`` ...);
    the opportunity date is the conversion date; the win, amount and close date come from
    the converted opportunity. Data Loader writes times in UTC with a ``Z``; report exports
    use the user's zone without an offset: pass it as ``timezone``.
    """
    return ColumnMapping(
        name="salesforce",
        columns={
            "lead_id": ("Id", "Lead ID"),
            "created_at": ("CreatedDate", "Create Date", "Created Date"),
            "source": ("LeadSource", "Lead Source"),
            "job_level": ("Title",),
            "industry": ("Industry",),
            "company_size": ("NumberOfEmployees", "No. of Employees", "Employees"),
            "region": ("Country",),
            "email_domain": ("Email",),
            "score": ("Lead_Score__c", "Lead Score"),
            "mql_at": ("MQL_Date__c", "MQL Date"),
            "sal_at": ("SAL_Date__c", "SAL Date"),
            "sql_at": ("SQL_Date__c", "SQL Date"),
            "opportunity_at": ("ConvertedDate", "Converted Date"),
            "first_touch_at": ("First_Touch_Date__c", "First Touch Date"),
            "rep_id": ("OwnerId", "Lead Owner"),
            "won": ("ConvertedOpportunity.IsWon", "Opportunity Won"),
            "amount": ("ConvertedOpportunity.Amount", "Opportunity Amount"),
            "closed_at": ("ConvertedOpportunity.CloseDate", "Opportunity Close Date"),
        },
        converters={
            "source": "snake",
            "job_level": "job_title",
            "industry": "snake",
            "company_size": "employees",
            "email_domain": "email",
            "won": "bool",
        },
        defaults={"lead_type": "new_business"},
        timezone=timezone,
    )


def lead_table_mapping(columns, timezone: str = "UTC") -> ColumnMapping:
    """The identity mapping: the export already uses lead-table names (e.g. ``simulate`` output)."""
    names = {str(c).strip() for c in columns}
    return ColumnMapping(
        name="lead table",
        columns={c.name: c.name for c in LEAD_SCHEMA if c.name in names},
        converters={"won": "bool", "sla_met": "bool"} if "won" in names or "sla_met" in names else {},
        timezone=timezone,
    )


@dataclass(frozen=True, slots=True, eq=False)
class History:
    """A lead history read for fitting.

    Attributes
    ----------
    leads : the lead table (every documented column, empty where the export has none,
        except behaviour counts, which are left out: a count the export lacks is unknown, a
        blank count in a column it has is 0), then the extra columns kept from the export.
    rejects : one row per input row left out: ``row``, ``lead_id``, ``column``, ``value``,
        ``reason``.
    as_of : when the history was taken (UTC): given, or the latest time in it.
    source : the file name, or ``"DataFrame"``.
    mapping : the mapping used.
    extra_columns : the export's columns kept beyond the documented ones.
    n_input_rows : rows read; ``len(leads) + len(rejects['row'].unique())``.
    """

    leads: pd.DataFrame
    rejects: pd.DataFrame
    as_of: pd.Timestamp
    source: str
    mapping: ColumnMapping
    extra_columns: tuple[str, ...]
    n_input_rows: int

    def __repr__(self) -> str:
        return (
            f"History(source={self.source!r}, leads={len(self.leads):,}, "
            f"rejected={self.rejects['row'].nunique():,} of {self.n_input_rows:,} rows, "
            f"as_of={self.as_of.isoformat()})"
        )

    @classmethod
    def from_run(cls, result) -> History:
        """A simulated history (``simulate.run``'s result) as a ``History``."""
        leads = validate_leads(result.leads.copy(), name="simulated lead table")
        return cls(
            leads=leads,
            rejects=_empty_rejects(),
            as_of=result.as_of,
            source=f"simulate.run(seed={result.seed})",
            mapping=lead_table_mapping(leads.columns),
            extra_columns=(),
            n_input_rows=len(leads),
        )


def load_history(
    path_or_frame: str | os.PathLike | pd.DataFrame,
    *,
    mapping: str | ColumnMapping | Mapping[str, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
    on_error: str = "reject",
    max_reject_share: float = 0.05,
) -> History:
    """Read a lead history from a CSV file or a DataFrame into the lead table.

    Parameters
    ----------
    path_or_frame : a CSV file, a DataFrame, or a ``simulate.run`` result.
    mapping : ``"hubspot"``, ``"salesforce"``, a ``ColumnMapping``, a plain
        ``{lead-table column: export column}`` dict, or ``None`` when the export already
        uses lead-table names.
    as_of : when the export was taken; default the latest time in it.
    sep, encoding : of the CSV file.
    on_error : ``"reject"`` leaves a bad row out and lists it in ``rejects``; ``"raise"``
        raises at the first bad row.
    max_reject_share : more bad rows than this share for one column and reason means the
        column itself is wrong (a date format, a type): one error instead of rejects.

    Examples
    --------
    >>> csv = io.StringIO(
    ...     "Record ID,Create Date,Original Source,Job Title,"
    ...     "Became a Marketing Qualified Lead Date\\n"
    ...     "1,2026-01-05 09:30,ORGANIC_SEARCH,VP Sales,2026-01-06 10:00\\n"
    ...     "2,2026-01-05 11:00,PAID_SEARCH,Student,\\n"
    ...     "3,2026-01-07 08:00,DIRECT_TRAFFIC,CTO,2026-01-06 08:00\\n")
    >>> history = load_history(csv, mapping=hubspot_contacts(timezone="Europe/Berlin"),
    ...                        max_reject_share=0.5)
    >>> history.leads[["lead_id", "created_at", "source", "job_level"]]
       lead_id                created_at          source job_level
    0        1 2026-01-05 08:30:00+00:00  organic_search        vp
    1        2 2026-01-05 10:00:00+00:00     paid_search   student
    >>> print(history.rejects.loc[0, "reason"])
    mql_at (2026-01-06 07:00 UTC) is earlier than created_at (2026-01-07 07:00 UTC)
    """
    if on_error not in ("reject", "raise"):
        raise ValueError(f"on_error must be 'reject' or 'raise', got {on_error!r}")
    if not 0 <= max_reject_share <= 1:
        raise ValueError(f"max_reject_share must be in [0, 1], got {max_reject_share!r}")
    if hasattr(path_or_frame, "leads") and hasattr(path_or_frame, "truth"):
        return History.from_run(path_or_frame)
    if isinstance(path_or_frame, pd.DataFrame):
        raw, source, is_file = path_or_frame.copy(), "DataFrame", False
        raw.columns = [str(c) for c in raw.columns]
        _check_cells(raw, source)
    else:
        raw, source = _read_csv(path_or_frame, sep=sep, encoding=encoding), _name(path_or_frame)
        is_file = True
    _check_header(raw.columns, source)
    mapping = _resolve_mapping(mapping, raw.columns)
    given_as_of = None if as_of is None else _as_of(as_of, mapping.timezone)
    reader = _Reader(raw, source, is_file, on_error, max_reject_share, as_of=given_as_of)
    leads, extra = reader.build(mapping, sep=sep)
    if given_as_of is None:
        times = [leads[c].max() for c in leads.columns if isinstance(leads[c].dtype, pd.DatetimeTZDtype)]
        times = [t for t in times if not pd.isna(t)]
        as_of_ts = max(times) if times else pd.Timestamp.now(tz="UTC")
    else:
        as_of_ts = given_as_of
    return History(
        leads=leads,
        rejects=reader.rejects_frame(),
        as_of=as_of_ts,
        source=source,
        mapping=mapping,
        extra_columns=tuple(extra),
        n_input_rows=len(raw),
    )


def _as_of(as_of, timezone: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ValueError(f"as_of must be a date or a time like 2026-06-01, got {as_of!r}") from None
    if pd.isna(ts):
        raise ValueError(f"as_of must be a date or a time like 2026-06-01, got {as_of!r}")
    ts = ts.tz_localize(timezone) if ts.tzinfo is None else ts
    return ts.tz_convert("UTC")


def _check_header(columns, source: str) -> None:
    """Two columns with the same name (ignoring case and spaces) make the mapping ambiguous."""
    seen: dict[str, int] = {}
    for i, c in enumerate(columns):
        key = str(c).strip().lower()
        if not key or key.startswith("unnamed: "):
            continue
        if key in seen:
            raise HistoryError(
                f"{source}: column {str(c).strip()!r} appears twice in the header (columns "
                f"{seen[key] + 1} and {i + 1}); rename or remove one of them"
            )
        seen[key] = i


_NOT_A_VALUE = (list, tuple, dict, set, frozenset, np.ndarray, bytes, bytearray)


def _check_cells(raw: pd.DataFrame, source: str) -> None:
    """A DataFrame cell must be one value (text, a number, a time), not a list or a dict."""
    for j, column in enumerate(raw.columns):
        s = raw.iloc[:, j]
        if s.dtype != object:
            continue
        bad = s.map(lambda v: isinstance(v, _NOT_A_VALUE)).to_numpy(dtype=bool)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise HistoryError(
                f"{source}: column {column!r}, row {row}: a cell must hold one value (text, a "
                f"number or a time), got a {type(s.iloc[row]).__name__} {s.iloc[row]!r:.60}"
            )


# --- reading the file ---------------------------------------------------------------------
def _name(path) -> str:
    return str(path) if not hasattr(path, "read") else getattr(path, "name", "CSV text")


def _read_csv(path, *, sep: str, encoding: str) -> pd.DataFrame:
    name = _name(path)
    if hasattr(path, "read"):
        data = path.read()
        data = data.encode("utf-8") if isinstance(data, str) else data
    else:
        try:
            data = Path(path).read_bytes()
        except FileNotFoundError:
            raise HistoryError(f"{name}: no such file") from None
    if not data.strip():
        raise HistoryError(f"{name}: the file is empty (no header, no rows)")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise HistoryError(
            f"{name}: line {line} is not {encoding} text (byte 0x{data[exc.start]:02x} at position "
            f"{exc.start}); save the export as UTF-8 or pass encoding= (for example 'cp1252' "
            "or 'latin-1')"
        ) from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise HistoryError(f"{name}: the file is empty (no header, no rows)")
    try:
        # header=None: a data line longer than the header is an error; with a header row,
        # pandas would silently turn the extra leading fields into an index and shift columns
        table = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
        )
    except pd.errors.EmptyDataError:
        raise HistoryError(f"{name}: the file is empty (no header, no rows)") from None
    except pd.errors.ParserError as exc:
        match = re.search(r"line (\d+), saw (\d+)", str(exc))
        quote = re.search(r"EOF inside string starting at row (\d+)", str(exc))
        if match:
            where = f"line {match.group(1)} has {match.group(2)} fields, more than the header"
        elif quote:
            where = f'line {int(quote.group(1)) + 1} opens a quote (") that is never closed'
        else:
            where = str(exc)
        raise HistoryError(f"{name}: {where}; check the delimiter (sep={sep!r}) and the quoting") from None
    header = ["" if pd.isna(c) else str(c).strip() for c in table.iloc[0]]
    header = [c or f"Unnamed: {i}" for i, c in enumerate(header)]
    _check_header(header, name)
    frame = table.iloc[1:].reset_index(drop=True)
    frame.columns = header
    if frame.shape[1] == 1:
        header = frame.columns[0]
        guess = _sniff(text, sep)
        if guess:
            raise HistoryError(
                f"{name}: the header has one column {header[:60]!r}; the file looks "
                f"{guess!r}-separated, "
                f"pass sep={guess!r}"
            )
    if len(frame) == 0:
        raise HistoryError(f"{name}: the file has a header but no data rows")
    return frame


def _sniff(text: str, sep: str) -> str | None:
    head = "\n".join(text.splitlines()[:5])
    try:
        found = csv.Sniffer().sniff(head, delimiters=";,\t|").delimiter
    except csv.Error:
        return None
    return found if found != sep else None


def _resolve_mapping(mapping, columns) -> ColumnMapping:
    if mapping is None:
        return lead_table_mapping(columns)
    if isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, str):
        known = {"hubspot": hubspot_contacts, "salesforce": salesforce_leads}
        if mapping not in known:
            raise ValueError(f"mapping must be 'hubspot', 'salesforce', a ColumnMapping or a dict, got {mapping!r}")
        return known[mapping]()
    if isinstance(mapping, Mapping):
        return ColumnMapping(columns=dict(mapping))
    raise TypeError(f"mapping must be a name, a ColumnMapping or a dict, got {type(mapping).__name__}")


# --- parsing columns ----------------------------------------------------------------------
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _Reader:
    """Parses the mapped columns of one export, collecting rejected rows."""

    def __init__(
        self,
        raw: pd.DataFrame,
        source: str,
        is_file: bool,
        on_error: str,
        max_share: float,
        *,
        as_of: pd.Timestamp | None = None,
    ):
        self.raw = raw
        self.as_of = as_of
        self.source = source
        self.is_file = is_file
        self.on_error = on_error
        self.max_share = max_share
        self.n = len(raw)
        self.rejects: list[tuple[int, object, str, object, str]] = []
        self.bad = np.zeros(self.n, dtype=bool)
        self.date_only: dict[str, np.ndarray] = {}
        self.ids: np.ndarray | None = None

    def where(self, column: str, row: int) -> str:
        line = f" (line {row + 2})" if self.is_file else ""
        return f"{self.source}: column {column!r}, row {row}{line}"

    def reject(self, column: str, label: str, mask: np.ndarray, values, reason) -> None:
        """Reject the rows in ``mask``: ``values[row]`` is the cell, ``reason(row)`` says why.

        Raises one error instead when ``on_error="raise"`` or when the rows are more than
        ``max_reject_share`` of the file (then the column, not the rows, is wrong).
        """
        rows = np.flatnonzero(mask & ~self.bad)
        if rows.size == 0:
            return
        first = int(rows[0])
        if self.on_error == "raise" or rows.size > self.max_share * self.n:
            more = f" (and {rows.size - 1:,} more rows: {rows.size:,} of {self.n:,})" if rows.size > 1 else ""
            raise HistoryError(f"{self.where(label, first)}: {reason(first)}{more}")
        for r in rows:
            v = None if values is None else values[r]
            self.rejects.append((int(r), None, column, None if v is None else str(v), reason(int(r))))
        self.bad[rows] = True

    def rejects_frame(self) -> pd.DataFrame:
        if not self.rejects:
            return _empty_rejects()
        out = pd.DataFrame(self.rejects, columns=["row", "lead_id", "column", "value", "reason"])
        if self.ids is not None:
            out["lead_id"] = [self.ids[r] for r in out["row"]]
        return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)

    # --- the whole table -----------------------------------------------------------------
    def build(self, mapping: ColumnMapping, *, sep: str) -> tuple[pd.DataFrame, list[str]]:
        lookup = {str(c).strip().lower(): c for c in self.raw.columns}
        used: dict[str, str] = {}
        for target, candidates in mapping.columns.items():
            names = (candidates,) if isinstance(candidates, str) else tuple(candidates)
            found = next((lookup[n.strip().lower()] for n in names if n.strip().lower() in lookup), None)
            if found is not None:
                used[target] = found
        for target in REQUIRED:
            if target not in used and target not in mapping.defaults:
                wanted = mapping.columns.get(target, target)
                wanted = (wanted,) if isinstance(wanted, str) else tuple(wanted)
                hint = ""
                if len(self.raw.columns) == 1 and self.is_file:
                    hint = f"; the header has a single column, check the delimiter (sep={sep!r})"
                raise HistoryError(
                    f"{self.source}: required column {target!r} is missing "
                    f"(mapping {mapping.name!r} looks "
                    f"for {' or '.join(repr(w) for w in wanted)}; the file has "
                    f"{', '.join(repr(c) for c in list(self.raw.columns)[:8])}"
                    f"{', ...' if len(self.raw.columns) > 8 else ''}){hint}"
                )
        na = set(mapping.na_values)
        out: dict[str, pd.Series] = {}
        for col in LEAD_SCHEMA:
            name = col.name
            if name in used:
                raw = self.raw[used[name]]
                raw = _clean_text(raw, na)
                out[name] = self.parse(name, used[name], raw, mapping)
            elif name in mapping.defaults:
                out[name] = self.parse(name, name, pd.Series([mapping.defaults[name]] * self.n, dtype=object), mapping)
            elif col.kind != "count":  # an absent count is left out: "no events" would be a guess
                out[name] = _empty(name, self.n)
        leads = pd.DataFrame(out, index=pd.RangeIndex(self.n))
        self.ids = leads["lead_id"].to_numpy(dtype=object)
        if "customer_at" not in used and "closed_at" in used and "won" in used:
            leads["customer_at"] = leads["closed_at"].where(leads["won"].fillna(False).astype(bool))
            if "closed_at" in self.date_only:
                self.date_only["customer_at"] = self.date_only["closed_at"]
        self.check_ids(leads["lead_id"], used.get("lead_id", "lead_id"))
        self.check_future(leads, used)
        self.check_order(leads, used)
        extra = []
        if mapping.keep_extra:
            taken = set(used.values()) | {
                c for c in self.raw.columns if c.strip().lower() in {d.strip().lower() for d in mapping.drop}
            }
            kept = {}
            for c in self.raw.columns:
                if c in taken or c in leads.columns:
                    continue
                kept[c] = _infer(_clean_text(self.raw[c], na))
                extra.append(c)
            if kept:  # one concat, not one insert per column (exports can have 1,000s)
                leads = pd.concat([leads, pd.DataFrame(kept, index=leads.index)], axis=1)
        keep = ~self.bad
        leads = leads.loc[keep].reset_index(drop=True)
        for c in leads.columns:
            if isinstance(leads[c].dtype, pd.CategoricalDtype):
                leads[c] = leads[c].cat.remove_unused_categories()
        try:
            validate_leads(leads, name=self.source)
        except LeadTableError as exc:  # pragma: no cover - parsing above should prevent it
            raise HistoryError(str(exc)) from None
        return leads, extra

    def parse(self, name: str, label: str, raw: pd.Series, mapping: ColumnMapping) -> pd.Series:
        kind = KIND[name]
        conv = mapping.converters.get(name)
        text = raw.to_numpy(dtype=object)
        present = ~pd.isna(raw).to_numpy()
        if conv == "employees":
            return self.numbers(name, label, pd.Series([_employees(v) for v in text], dtype=object), text, present)
        if conv == "bool" or kind == "bool":
            values = np.array([_bool(v) for v in text], dtype=object)
            wrong = present & np.array([v is _BAD for v in values])
            self.column_type_check(label, wrong, present, text, "true/false (yes/no, 1/0, won/lost)")
            self.reject(
                name,
                label,
                wrong,
                text,
                lambda r: f"{text[r]!r} is not true/false (yes/no, 1/0, won/lost)",
            )
            values[wrong | ~present] = None
            return pd.Series(values, dtype="boolean")
        if kind == "time":
            return self.times(name, label, raw, mapping)
        if kind in ("number", "count"):
            return self.numbers(name, label, raw, text, present)
        if conv == "snake":
            text = np.array([_snake(v) if p else None for v, p in zip(text, present, strict=True)], dtype=object)
        elif conv == "job_title":
            text = np.array(
                [_job_level(v) if p else None for v, p in zip(text, present, strict=True)],
                dtype=object,
            )
        elif conv == "email":
            text = np.array(
                [_email_domain(v) if p else None for v, p in zip(text, present, strict=True)],
                dtype=object,
            )
        if kind == "id":
            return _ids(text)
        if kind == "category":
            # categories are text: a date object and a datetime64 of the same day are one value
            labels = np.array([None if v is None or v is pd.NA else str(v) for v in text], dtype=object)
            return pd.Series(pd.Categorical(labels))
        return pd.Series(text, dtype="string")

    def column_type_check(self, label, wrong, present, text, expected) -> None:
        """A column none of whose values parse is the wrong column: one error."""
        if present.any() and wrong[present].all() and self.on_error == "reject":
            row = int(np.flatnonzero(wrong)[0])
            raise HistoryError(
                f"{self.where(label, row)}: expected {expected}, got {text[row]!r} "
                f"(no value of the column parses: is it the right column, the right type?)"
            )

    def numbers(self, name, label, values: pd.Series, text, present) -> pd.Series:
        raw = values.to_numpy(dtype=object)
        cleaned = pd.Series([_number_text(v) for v in raw], dtype=object)
        num = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float, copy=True)
        wrong = present & np.isnan(num)
        self.column_type_check(label, wrong, present, text, "a number")
        self.reject(name, label, wrong, text, lambda r: f"{text[r]!r} is not a number")
        num[wrong] = np.nan
        huge = ~np.isnan(num) & ~(np.abs(num) <= MAX_NUMBER)
        self.reject(
            name,
            label,
            huge,
            text,
            lambda r: f"{text[r]!r} is not a finite number of at most {MAX_NUMBER:g} in size",
        )
        num[huge] = np.nan
        if KIND[name] == "count":
            bad = ~np.isnan(num) & ((num < 0) | (np.mod(num, 1) != 0))
            self.reject(name, label, bad, text, lambda r: f"{text[r]!r} is not a whole count >= 0")
            num[bad | np.isnan(num)] = 0.0  # CRMs leave a count blank when nothing happened
            return pd.Series(num.astype(np.int64))
        return pd.Series(num)

    def times(self, name, label, raw: pd.Series, mapping: ColumnMapping) -> pd.Series:
        tz = mapping.timezone
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            utc, far = _plausible(raw.dt.tz_convert("UTC"))
            self.reject_far(name, label, far, raw.astype(str).to_numpy(dtype=object))
            return utc.astype("datetime64[ns, UTC]")
        present = ~pd.isna(raw).to_numpy()
        cells = raw.to_numpy(dtype=object)
        pairs = zip(cells, present, strict=True)
        text = np.array([str(v).strip() if p else None for v, p in pairs], dtype=object)
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        fmt = mapping.date_formats.get(name, "ISO8601")
        far = np.zeros(self.n, dtype=bool)
        if pd.api.types.is_datetime64_any_dtype(raw.dtype):
            naive, has_tz = raw, np.zeros(self.n, dtype=bool)
        else:
            has_tz = np.array([v is not None and bool(_TZ_SUFFIX.search(v)) for v in text], dtype=bool)
            if "%z" in fmt or "%Z" in fmt:
                has_tz = present.copy()
            if has_tz.any():
                s = pd.Series(text[has_tz], index=raw.index[has_tz], dtype=object)
                aware, far_tz = _plausible(pd.to_datetime(s, format=fmt, errors="coerce", utc=True))
                out[has_tz] = aware.astype("datetime64[ns, UTC]")
                far[has_tz] = far_tz
            s = pd.Series(np.where(has_tz, None, text), index=raw.index, dtype=object)
            naive = pd.to_datetime(s, format=fmt, errors="coerce")
        naive, far_naive = _plausible(naive)
        far |= far_naive
        local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        naive_ok = naive.notna().to_numpy() & ~has_tz
        out[naive_ok] = local[naive_ok].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        clock = naive_ok & local.isna().to_numpy()
        self.reject_far(name, label, far, text)
        wrong = present & out.isna().to_numpy() & ~clock & ~far
        expect = "an ISO 8601 date (2026-01-31 or 2026-01-31 14:05)" if fmt == "ISO8601" else f"a date like {fmt!r}"
        self.column_type_check(label, wrong, present, text, expect)
        self.reject(
            name,
            label,
            wrong,
            text,
            lambda r: f"{text[r]!r} is not {expect}; set ColumnMapping.date_formats",
        )
        self.reject(
            name,
            label,
            clock,
            text,
            lambda r: f"{text[r]!r} does not exist or is ambiguous in time zone {tz} (clock change)",
        )
        self.date_only[name] = np.array([v is not None and bool(_DATE_ONLY.match(v)) for v in text], dtype=bool)
        return out

    def reject_far(self, name: str, label: str, far: np.ndarray, text: np.ndarray) -> None:
        lo, hi = PLAUSIBLE_TIMES
        self.reject(
            name,
            label,
            far,
            text,
            lambda r: f"{text[r]!r} is outside {lo.year} to {hi.year - 1} (a placeholder date or a mistyped year?)",
        )

    def check_future(self, leads: pd.DataFrame, used: Mapping[str, str]) -> None:
        """With a given as-of date, a time after it is in the future of the export.

        ``closed_at`` is left out: CRMs keep the expected close date of an open deal there.
        """
        if self.as_of is None:
            return
        for name in leads.columns:
            s = leads[name]
            if KIND.get(name) != "time" or name == "closed_at":
                continue
            after = (s > self.as_of).to_numpy(dtype=bool, na_value=False)
            if after.any():
                values = s.to_numpy(dtype=object)
                self.reject(
                    name,
                    used.get(name, name),
                    after,
                    values,
                    lambda r, name=name, values=values: (
                        f"{name} ({_short(values[r])}) is after the as-of date "
                        f"({_short(self.as_of)}): a time in the future"
                    ),
                )

    def check_ids(self, ids: pd.Series, label: str) -> None:
        missing = ids.isna().to_numpy()
        self.reject("lead_id", label, missing, None, lambda r: "the lead id is empty")
        dup = ids.duplicated(keep="first").to_numpy() & ~missing
        if dup.any():
            first_row = {}
            for r, v in enumerate(ids.to_numpy(dtype=object)):
                if not missing[r]:
                    first_row.setdefault(v, r)
            values = ids.to_numpy(dtype=object)
            self.reject(
                "lead_id",
                label,
                dup,
                values,
                lambda r: f"lead id {values[r]!r} repeats row {first_row.get(values[r])}",
            )

    def check_order(self, leads: pd.DataFrame, used: Mapping[str, str]) -> None:
        present = [c for c in LIFECYCLE_ORDER if leads[c].notna().any()]
        date_only = self.date_only
        for i, b in enumerate(present[1:], start=1):
            tb = leads[b]
            # compare with the latest earlier stage that is filled
            prev = leads[present[0]].copy()
            prev_name = pd.Series(present[0], index=leads.index, dtype=object)
            for a in present[1:i]:
                filled = leads[a].notna()
                prev = prev.where(~filled, leads[a])
                prev_name = prev_name.where(~filled, a)
            back = (tb < prev).to_numpy(dtype=bool, na_value=False).copy()
            if b in date_only:
                # a date without a time is the whole day: same day as the earlier stage is fine
                same_day = back & date_only[b] & (tb.dt.date == prev.dt.date).to_numpy(dtype=bool, na_value=False)
                if same_day.any():
                    leads.loc[same_day, b] = prev[same_day]
                    back &= ~same_day
            if back.any():
                label = used.get(b, b)
                names = prev_name.to_numpy(dtype=object)
                tbv, pv = tb.to_numpy(dtype=object), prev.to_numpy(dtype=object)
                reasons = {
                    int(r): f"{b} ({_short(tbv[r])}) is earlier than {names[r]} ({_short(pv[r])})"
                    for r in np.flatnonzero(back)
                }
                self.reject(b, label, back, tbv, reasons.__getitem__)


def _short(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M UTC")


def _plausible(times: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``times`` with those outside ``PLAUSIBLE_TIMES`` set missing, and where they were."""
    lo, hi = PLAUSIBLE_TIMES
    if times.dt.tz is None:
        lo, hi = lo.tz_localize(None), hi.tz_localize(None)
    far = (times.notna() & ~((times >= lo) & (times < hi))).to_numpy(dtype=bool)
    return times.where(~far), far


def _empty_rejects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "lead_id": pd.Series(dtype=object),
            "column": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
        }
    )


def _empty(name: str, n: int) -> pd.Series:
    kind = KIND[name]
    if kind == "time":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    if kind in ("number", "count"):
        return pd.Series(np.nan, index=range(n))
    if kind == "bool":
        return pd.Series(pd.NA, index=range(n), dtype="boolean")
    if kind == "category":
        return pd.Series(pd.Categorical([None] * n))
    return pd.Series(pd.NA, index=range(n), dtype="string")


def _clean_text(raw: pd.Series, na: set) -> pd.Series:
    if not (raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)):
        return raw
    s = raw.astype(object)
    s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
    return s.where(~s.isin(na | {""}) & s.notna(), None)


def _infer(s: pd.Series) -> pd.Series:
    """An extra column: numbers if every value is one, else categories."""
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    num = pd.to_numeric(s, errors="coerce")
    if (num.notna() == s.notna()).all() and s.notna().any():
        return num.astype(float)
    return pd.Series(pd.Categorical(s.to_numpy(dtype=object)))


def _ids(text: np.ndarray) -> pd.Series:
    s = pd.Series(text, dtype=object)
    present = s.notna()
    as_text = s[present].astype(str)
    if as_text.str.fullmatch(r"\d{1,18}").all() and present.all():
        return as_text.astype(np.int64).reset_index(drop=True)
    return s.map(lambda v: None if pd.isna(v) else str(v)).astype("string")


_BAD = object()


def _bool(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    t = str(v).strip().lower()
    if t in ("true", "t", "yes", "y", "1", "1.0", "won", "closed won", "closed_won"):
        return True
    if t in ("false", "f", "no", "n", "0", "0.0", "lost", "closed lost", "closed_lost"):
        return False
    return _BAD


def _number_text(v):
    if v is None or isinstance(v, int | float | np.number):
        return v
    t = str(v).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    t = re.sub(r"^[$€£]", "", t)
    return t


def _employees(v):
    """Employees from a number or a range: ``"51-200"`` -> 101 (the geometric middle),
    ``"1000+"`` -> 1000."""
    if v is None or isinstance(v, int | float | np.number):
        return v
    t = str(v).strip().replace(",", "")
    m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", t)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return float(round(np.sqrt(max(lo, 1.0) * hi)))
    m = re.fullmatch(r"(\d+)\s*\+", t)
    if m:
        return float(m.group(1))
    return t


def _snake(v) -> str:
    return re.sub(r"[^0-9a-z]+", "_", str(v).strip().lower()).strip("_")


_LEVELS = (
    ("vp", r"\b(vp|svp|evp|avp|vice[\s-]*president)\b"),
    (
        "c_level",
        r"\b(ceo|cfo|cto|coo|cmo|cio|cro|ciso|cpo|chief|founder|co-?founder|owner|"
        r"president|managing director)\b",
    ),
    ("director", r"\b(director|head)\b"),
    ("manager", r"\b(manager|mgr|lead|supervisor)\b"),
    ("student", r"\b(student|intern|trainee)\b"),
)


def _job_level(title) -> str:
    """Job level from a title: vp, c_level, director, manager, student or individual_contributor."""
    t = str(title).lower()
    for level, pattern in _LEVELS:
        if re.search(pattern, t):
            return level
    return "individual_contributor"


_PERSONAL = re.compile(
    r"^(gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mac|gmx|web|proton|"
    r"protonmail|mail|yandex|qq|163|126|zoho|comcast|btinternet|orange|free|laposte|libero|rediffmail)\."
)
_DISPOSABLE = re.compile(
    r"^(mailinator|guerrillamail|10minutemail|tempmail|temp-mail|yopmail|trashmail|sharklasers|"
    r"getnada|dispostable|maildrop|throwawaymail|fakeinbox|mintemail)\."
)


def _email_domain(address):
    """``business``, ``personal`` or ``disposable`` from an e-mail address (missing if no ``@``)."""
    text = str(address).strip().lower()
    if "@" not in text:
        return None
    domain = text.rsplit("@", 1)[1]
    if _DISPOSABLE.match(domain):
        return "disposable"
    if _PERSONAL.match(domain):
        return "personal"
    return "business"
