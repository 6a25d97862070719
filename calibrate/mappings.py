"""Column mappings: how a CRM export's columns map onto the lead table (``simulate.table``).

A ``ColumnMapping`` names, for each lead-table column, the export column (or candidates) that
holds it, how its times are written and in which zone, and which converter turns its text
into lead-table values. Built in: a HubSpot contacts export (``hubspot_contacts``), a
Salesforce leads export (``salesforce_leads``) and the identity mapping for a table that
already uses lead-table names (``lead_table_mapping``). ``resolve_mapping`` turns what a user
passes to ``calibrate.load_history`` (a name, a dict, a mapping or nothing) into one. The
converters a mapping names are here too: ``snake_case``, ``job_level``, ``email_domain`` and
``employee_count`` (``"bool"`` is the parser of true/false columns, in ``calibrate.reading``).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from simulate.table import LEAD_SCHEMA

KIND = {c.name: c.kind for c in LEAD_SCHEMA}
"""The kind of each lead-table column (``"id"``, ``"time"``, ``"category"``, ...)."""
REQUIRED = tuple(c.name for c in LEAD_SCHEMA if c.required)
"""Lead-table columns an export must have (or a mapping must give a default for)."""
CONVERTERS = ("snake", "job_title", "email", "employees", "bool")
"""The named converters a ``ColumnMapping`` may ask for."""


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

    def candidates(self, target: str) -> tuple[str, ...]:
        """The export column names that may hold lead-table column ``target``."""
        wanted = self.columns.get(target, target)
        return (wanted,) if isinstance(wanted, str) else tuple(wanted)

    def match(self, columns: Iterable[str]) -> dict[str, str]:
        """Lead-table column -> the export column that holds it, for the targets found.

        The first candidate present wins; names match without regard to case or surrounding
        spaces.

        Examples
        --------
        >>> hubspot_contacts().match(["Record ID", " create date ", "Email"])
        {'lead_id': 'Record ID', 'created_at': ' create date ', 'email_domain': 'Email'}
        """
        lookup = {str(c).strip().lower(): c for c in columns}
        used: dict[str, str] = {}
        for target in self.columns:
            keys = (n.strip().lower() for n in self.candidates(target))
            found = next((lookup[k] for k in keys if k in lookup), None)
            if found is not None:
                used[target] = found
        return used


def hubspot_contacts(timezone: str = "UTC") -> ColumnMapping:
    """A HubSpot contacts export (column labels or internal property names).

    HubSpot writes times in the account's time zone without an offset: pass it as
    ``timezone``. Lifecycle dates come from the "Became a ... Date" properties, the win from
    "Became a Customer Date", the first touch from "Date of first engagement".

    Parameters
    ----------
    timezone : the account's time zone (an IANA name such as ``"Europe/Berlin"``).

    Returns
    -------
    ColumnMapping
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

    Parameters
    ----------
    timezone : the zone of times written without an offset.

    Returns
    -------
    ColumnMapping
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


def lead_table_mapping(columns: Iterable[str], timezone: str = "UTC") -> ColumnMapping:
    """The identity mapping: the export already uses lead-table names (e.g. ``simulate`` output).

    Parameters
    ----------
    columns : the export's column names.
    timezone : the zone of times written without an offset.

    Returns
    -------
    ColumnMapping
    """
    names = {str(c).strip() for c in columns}
    return ColumnMapping(
        name="lead table",
        columns={c.name: c.name for c in LEAD_SCHEMA if c.name in names},
        converters={"won": "bool", "sla_met": "bool"} if "won" in names or "sla_met" in names else {},
        timezone=timezone,
    )


def resolve_mapping(mapping: str | ColumnMapping | Mapping[str, str] | None, columns: Iterable[str]) -> ColumnMapping:
    """The ``ColumnMapping`` meant by ``load_history``'s ``mapping`` argument.

    Parameters
    ----------
    mapping : ``"hubspot"``, ``"salesforce"``, a ``ColumnMapping``, a plain
        ``{lead-table column: export column}`` dict, or ``None`` for lead-table names.
    columns : the export's column names (for ``None``).

    Returns
    -------
    ColumnMapping
    """
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


# --- the named converters ------------------------------------------------------------------
def snake_case(value) -> str:
    """The ``"snake"`` converter: a label as a lead-table category.

    Examples
    --------
    >>> snake_case(" Paid Search "), snake_case("ORGANIC_SEARCH")
    ('paid_search', 'organic_search')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_")


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


def job_level(title) -> str:
    """The ``"job_title"`` converter: vp, c_level, director, manager, student or individual_contributor.

    Examples
    --------
    >>> [job_level(t) for t in ("Co-Founder & CTO", "Head of Growth", "Data Analyst")]
    ['c_level', 'director', 'individual_contributor']
    """
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


def email_domain(address) -> str | None:
    """The ``"email"`` converter: ``business``, ``personal`` or ``disposable`` (missing if no ``@``).

    Examples
    --------
    >>> [email_domain(a) for a in ("ann@acme.io", "ann@gmail.com", "ann@yopmail.com", "n/a")]
    ['business', 'personal', 'disposable', None]
    """
    text = str(address).strip().lower()
    if "@" not in text:
        return None
    domain = text.rsplit("@", 1)[1]
    if _DISPOSABLE.match(domain):
        return "disposable"
    if _PERSONAL.match(domain):
        return "personal"
    return "business"


def employee_count(value):
    """The ``"employees"`` converter: a number, or a range's geometric middle.

    ``"51-200"`` -> 101, ``"1000+"`` -> 1000; numbers pass unchanged, other text is returned
    (without thousands separators) for the number parser to judge.

    Examples
    --------
    >>> [employee_count(v) for v in ("51-200", "1000+", "1,234", 40)]
    [101.0, 1000.0, '1234', 40]
    """
    if value is None or isinstance(value, int | float | np.number):
        return value
    t = str(value).strip().replace(",", "")
    m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", t)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return float(round(np.sqrt(max(lo, 1.0) * hi)))
    m = re.fullmatch(r"(\d+)\s*\+", t)
    if m:
        return float(m.group(1))
    return t
