"""Column mappings: how a CRM export's columns map onto the lead table (``simulate.table``).

A ``ColumnMapping`` names, for each lead-table column, the export column (or candidates) that
holds it, how its times are written and in which zone, and which converter turns its text
into lead-table values; a ``TableJoin`` says how a second export (deals, activities) joins
the leads (``calibrate.joining``). Built in: HubSpot (``hubspot_contacts`` with
``hubspot_deals`` and ``hubspot_activities``), Salesforce (``salesforce_leads`` with
``salesforce_opportunities`` and ``salesforce_tasks``) and the identity mapping for a table
that already uses lead-table names (``lead_table_mapping``). ``resolve_mapping`` turns what a
user passes to ``calibrate.load_history`` (a name, a mapping file, a dict, a mapping or
nothing) into one. The converters a mapping names live in ``calibrate.converters``.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from calibrate.converters import email_domain, employee_count, job_level, snake_case
from simulate.table import LEAD_SCHEMA

__all__ = [
    "ColumnMapping",
    "TableJoin",
    "email_domain",
    "employee_count",
    "hubspot_activities",
    "hubspot_contacts",
    "hubspot_deals",
    "job_level",
    "lead_table_mapping",
    "resolve_mapping",
    "salesforce_leads",
    "salesforce_opportunities",
    "salesforce_tasks",
    "snake_case",
]

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
    defaults : a value for a lead-table column the export lacks; every lead is
        ``lead_type="new_business"`` unless the export has the column or ``defaults`` says
        otherwise (other defaults keep that one).
    na_values : extra text that means missing (for example ``"Select"``).
    keep_extra : keep the export's other columns (under their own names) as candidate
        features; ``calibrate.make_labels`` screens them for leakage.
    drop : export columns to leave out (a second id, free text, personal data).
    optional : mapped lead-table columns the export may lack. Every other mapped column
        must be in the export (a typo is one error naming the key and the export's
        columns); the built-in mappings list all their optional columns here.
    deals, activities : how a deals (opportunities) export and an activities (engagements,
        tasks) export join the leads (``TableJoin``), for ``load_history(deals=...,
        activities=...)``.

    A column of the export named like a lead-table column (``lead_type``, ``region``) that
    the mapping does not map is read as that column; it is never overwritten by a default.
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
    optional: tuple[str, ...] = ()
    deals: TableJoin | None = None
    activities: TableJoin | None = None

    def __post_init__(self) -> None:
        if "lead_type" not in self.defaults and "lead_type" not in self.columns:
            object.__setattr__(self, "defaults", {**self.defaults, "lead_type": "new_business"})
        for target in (*self.columns, *self.date_formats, *self.converters, *self.defaults, *self.optional):
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
        check_timezone(self.timezone, f"ColumnMapping {self.name!r}")
        for kind in ("deals", "activities"):
            join = getattr(self, kind)
            if join is not None and not isinstance(join, TableJoin):
                raise TypeError(f"ColumnMapping.{kind} must be a TableJoin, got {type(join).__name__}")

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
        taken = set(used.values())
        for target in KIND:  # a column under the name of a lead-table column not mapped is that column
            found = lookup.get(target)
            if target not in self.columns and found is not None and found not in taken:
                used[target] = found
                taken.add(found)
        return used

    def unmatched(self, columns: Iterable[str]) -> list[str]:
        """Mapped lead-table columns, not optional, that the export lacks (typos)."""
        used = self.match(columns)
        return [t for t in self.columns if t not in used and t not in self.optional]


def check_timezone(timezone: str, owner: str) -> None:
    """Raise ``ValueError`` naming ``owner`` when ``timezone`` is not an IANA time zone."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{owner}: timezone {timezone!r} is not a known time zone") from None


TABLE_TARGETS = {
    "deals": ("opportunity_at", "closed_at", "amount", "won", "deal_stage"),
    "activities": ("first_touch_at", "rep_id"),
}
"""The lead-table columns a deals or an activities export can give (see ``calibrate.joining``)."""
NOT_A_TOUCH = ("note", "notes", "task", "tasks", "todo", "to_do")
"""Activity types that are no contact with the lead (a note, a to-do), compared in snake case."""
NOT_DONE = ("not_started", "deferred", "scheduled", "open", "planned", "in_progress", "waiting_on_someone_else")
"""Activity statuses of a touch that has not happened yet, compared in snake case."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TableJoin:
    """How a second export (deals or activities) joins the leads, and what it gives them.

    Parameters
    ----------
    kind : ``"deals"`` (deals, opportunities) or ``"activities"`` (engagements, tasks).
    key : this table's column (or candidates) holding the key that links a row to its
        lead; a cell may hold several keys separated by ``;`` or ``,`` (HubSpot's
        "Associated Contact IDs").
    lead_key : the leads export's column (or candidates) the key matches; default the
        leads' id column. Salesforce links the other way round: the lead's
        ``ConvertedOpportunityId`` matches the opportunity's ``Id``.
    mapping : this table's columns onto the lead-table columns it gives
        (``TABLE_TARGETS[kind]``): for deals the opportunity moment (the deal's creation),
        its close, amount, stage and win; for activities the first touch (the earliest
        activity) and its rep.
    type_column, status_column : activities only: the type and status columns; a row
        whose type is in ``not_a_touch`` or whose status is in ``not_done`` is no touch
        (counted, not used).
    """

    kind: str
    key: str | tuple[str, ...]
    mapping: ColumnMapping
    lead_key: str | tuple[str, ...] = ()
    type_column: str | tuple[str, ...] = ()
    status_column: str | tuple[str, ...] = ()
    not_a_touch: tuple[str, ...] = NOT_A_TOUCH
    not_done: tuple[str, ...] = NOT_DONE

    def __post_init__(self) -> None:
        if self.kind not in TABLE_TARGETS:
            raise ValueError(f"TableJoin.kind must be one of {tuple(TABLE_TARGETS)}, got {self.kind!r}")
        if not isinstance(self.mapping, ColumnMapping):
            raise TypeError(f"TableJoin.mapping must be a ColumnMapping, got {type(self.mapping).__name__}")
        wrong = [t for t in self.mapping.columns if t not in TABLE_TARGETS[self.kind]]
        if wrong:
            raise ValueError(
                f"TableJoin ({self.kind}): {wrong[0]!r} is not a column a {self.kind} table gives; "
                f"it gives {', '.join(TABLE_TARGETS[self.kind])}"
            )

    @staticmethod
    def names(value: str | tuple[str, ...]) -> tuple[str, ...]:
        """A column given as one name or as candidates, as candidates."""
        return (value,) if isinstance(value, str) else tuple(value)


def _table_mapping(kind: str, columns: Mapping, timezone: str, **more) -> ColumnMapping:
    """The mapping of a deals or activities table: every column optional."""
    return ColumnMapping(
        name=kind,
        columns=columns,
        timezone=timezone,
        optional=tuple(columns),
        keep_extra=False,
        defaults={"lead_type": None},
        **more,
    )


_OPTIONAL = tuple(c.name for c in LEAD_SCHEMA if not c.required)
"""The built-in mappings' optional columns: every column that is not required."""


def hubspot_deals(timezone: str = "UTC") -> TableJoin:
    """A HubSpot deals export joined to the contacts by "Associated Contact IDs".

    HubSpot's deals export (column labels or internal names) has the deal's own "Record ID",
    "Create Date", "Close Date", "Deal Stage" (``closedwon``, "Closed Won", ...), "Amount"
    and "Is Closed Won", and, when associations are exported, "Associated Contact IDs"
    (several separated by ``;``). An association export (one row per contact and deal,
    "Contact ID") works as well.
    """
    return TableJoin(
        kind="deals",
        key=("Associated Contact IDs", "Associated Contact ID", "Associated Contact", "Contact ID", "contact_id"),
        mapping=_table_mapping(
            "hubspot deals",
            {
                "opportunity_at": ("Create Date", "createdate", "hs_createdate"),
                "closed_at": ("Close Date", "closedate"),
                "amount": ("Amount", "amount", "Amount in company currency", "amount_in_home_currency"),
                "deal_stage": ("Deal Stage", "dealstage"),
                "won": ("Is Closed Won", "hs_is_closed_won", "Is closed won"),
            },
            timezone,
            converters={"deal_stage": "snake", "won": "bool"},
        ),
    )


def hubspot_activities(timezone: str = "UTC") -> TableJoin:
    """A HubSpot activities (engagements: calls, e-mails, meetings) export, by contact.

    Columns: "Activity date" (``hs_timestamp``), "Activity type" (``hs_engagement_type``:
    CALL, EMAIL, MEETING, NOTE, TASK), "Activity assigned to" (``hubspot_owner_id``) and
    "Associated Contact IDs". Notes and tasks are no touch of the lead.
    """
    return TableJoin(
        kind="activities",
        key=("Associated Contact IDs", "Associated Contact ID", "Contact ID", "contact_id"),
        mapping=_table_mapping(
            "hubspot activities",
            {
                "first_touch_at": ("Activity date", "Activity Date", "hs_timestamp", "Create date", "hs_createdate"),
                "rep_id": ("Activity assigned to", "Assigned to", "hubspot_owner_id", "Activity owner"),
            },
            timezone,
        ),
        type_column=("Activity type", "hs_engagement_type", "Engagement type", "Type"),
        status_column=("Task status", "hs_task_status", "Status"),
    )


def salesforce_opportunities(timezone: str = "UTC") -> TableJoin:
    """A Salesforce opportunities export, joined by the lead's ``ConvertedOpportunityId``.

    Opportunity fields (API names as Data Loader writes them, or report labels):
    ``Id``, ``CreatedDate``, ``CloseDate`` (a date), ``StageName`` ("Closed Won", ...),
    ``Amount``, ``IsWon``. The lead's ``ConvertedOpportunityId`` names its opportunity;
    15- and 18-character ids match.
    """
    return TableJoin(
        kind="deals",
        key=("Id", "Opportunity ID", "Opportunity Id"),
        lead_key=("ConvertedOpportunityId", "Converted Opportunity ID", "Converted Opportunity"),
        mapping=_table_mapping(
            "salesforce opportunities",
            {
                "opportunity_at": ("CreatedDate", "Created Date"),
                "closed_at": ("CloseDate", "Close Date"),
                "amount": ("Amount",),
                "deal_stage": ("StageName", "Stage"),
                "won": ("IsWon", "Won"),
            },
            timezone,
            converters={"deal_stage": "snake", "won": "bool"},
        ),
    )


def salesforce_tasks(timezone: str = "UTC") -> TableJoin:
    """A Salesforce tasks (activities) export, joined by ``WhoId`` (the lead).

    The touch moment is ``CompletedDateTime`` where there is one, else ``CreatedDate`` (when
    it was logged); ``ActivityDate`` is a due date, read only where neither exists.
    ``TaskSubtype`` / ``Type`` tell a call or an e-mail from a to-do; ``Status``
    "Not Started" or "Deferred" is a touch not made yet.
    """
    return TableJoin(
        kind="activities",
        key=("WhoId", "Who Id", "Lead ID", "Name ID"),
        mapping=_table_mapping(
            "salesforce tasks",
            {
                "first_touch_at": (
                    "CompletedDateTime",
                    "Completed Date/Time",
                    "CreatedDate",
                    "Created Date",
                    "ActivityDate",
                    "Date",
                ),
                "rep_id": ("OwnerId", "Assigned To", "Assigned"),
            },
            timezone,
        ),
        type_column=("TaskSubtype", "Task Subtype", "Type", "Activity Type"),
        status_column=("Status",),
    )


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
        optional=_OPTIONAL,
        deals=hubspot_deals(timezone),
        activities=hubspot_activities(timezone),
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
        optional=_OPTIONAL,
        deals=salesforce_opportunities(timezone),
        activities=salesforce_tasks(timezone),
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
        deals=TableJoin(kind="deals", key="lead_id", mapping=_table_mapping("deals", {}, timezone)),
        activities=TableJoin(kind="activities", key="lead_id", mapping=_table_mapping("activities", {}, timezone)),
    )


def resolve_mapping(mapping: str | ColumnMapping | Mapping[str, str] | None, columns: Iterable[str]) -> ColumnMapping:
    """The ``ColumnMapping`` meant by ``load_history``'s ``mapping`` argument.

    Parameters
    ----------
    mapping : ``"hubspot"``, ``"salesforce"``, a mapping file (``.toml`` or ``.json``, see
        ``calibrate.mapping_files``), a ``ColumnMapping``, a plain
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
    if isinstance(mapping, str | os.PathLike):
        known = {"hubspot": hubspot_contacts, "salesforce": salesforce_leads}
        if mapping in known:
            return known[mapping]()
        if str(mapping).lower().endswith((".toml", ".json")):
            from calibrate.mapping_files import read_mapping

            return read_mapping(mapping)
        raise ValueError(
            f"mapping must be 'hubspot', 'salesforce', a mapping file (.toml or .json), a ColumnMapping "
            f"or a dict, got {mapping!r}"
        )
    if isinstance(mapping, Mapping):
        return ColumnMapping(columns=dict(mapping))
    raise TypeError(f"mapping must be a name, a ColumnMapping or a dict, got {type(mapping).__name__}")
