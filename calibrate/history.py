"""Reading a lead history: a CRM export (CSV or DataFrame) into the lead table.

``load_history`` maps the export's columns onto the lead table (``simulate.table``) with a
``ColumnMapping`` (``calibrate.mappings``): built in for HubSpot (``"hubspot"``: contacts,
deals, activities) and Salesforce (``"salesforce"``: leads, opportunities, tasks), or your
own, in Python or as a TOML or JSON file (``calibrate.mapping_files``). It joins the deals
and activities exports to the leads (``calibrate.joining``), parses every value
(``calibrate.reading``), and every input row is either in ``History.leads`` or in
``History.rejects`` with its table and reason; a blank is a missing value. The history says
its shape (``History.shape``, ``calibrate.shape``): a lead history, an MQL list or an
opportunity list. A file that is bad as a whole (empty, wrong delimiter
or encoding, a missing column, a column of the wrong type, too many bad rows) raises one
``HistoryError`` that names the column and the row.

Rows: ``row`` counts data rows from 0 (the first row under the header is row 0); in a CSV
file that is ``line = row + 2`` (the header is line 1), which messages also give.

Limits: a time outside ``calibrate.reading.PLAUSIBLE_TIMES`` (1980 to 2099: a placeholder
such as 1970-01-01 or a typed year), after the given ``as_of`` (in the future), a number that
is not finite or larger than ``calibrate.reading.MAX_NUMBER`` in size, and a duplicated
header name are bad values, never silently used.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from calibrate.export_file import HistoryError, read_table
from calibrate.mappings import ColumnMapping, lead_table_mapping, resolve_mapping
from calibrate.reading import Reader, empty_rejects
from calibrate.shape import HistoryShape, history_shape
from simulate.table import BEHAVIOUR_COLUMNS, validate_events, validate_leads

__all__ = ["History", "HistoryError", "load_history"]


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
    events : the behaviour events (``lead_id, at, kind``) if given; then every count can be
        taken as of any moment (``calibrate.point_in_time``) and the lead table's count
        columns are the events' totals up to ``as_of``.
    counts_at : what the lead table's behaviour counts are: ``"events"`` (recounted from
        ``events``), ``"decision"`` (the export's counts are snapshots taken at the MQL
        moment), or ``"end"`` (today's totals: they include activity after the decision,
        and the fit warns, see ``calibrate.point_in_time.PointInTimeWarning``).
    shape : what the history can decide (``calibrate.shape``): a lead history, an MQL list
        (a higher threshold only) or an opportunity list (no MQL decision); computed from
        the leads when not given.
    columns : lead-table column -> the user's column it was read from (messages name it).
    tables : the other tables joined (``table, source, rows, used, key, lead_key``), or
        ``None``; their rows not used are in ``rejects`` with their ``table``.
    """

    leads: pd.DataFrame
    rejects: pd.DataFrame
    as_of: pd.Timestamp
    source: str
    mapping: ColumnMapping
    extra_columns: tuple[str, ...]
    n_input_rows: int
    events: pd.DataFrame | None = None
    counts_at: str = "end"
    shape: HistoryShape | None = None
    columns: Mapping[str, str] = dataclasses.field(default_factory=dict)
    tables: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.shape is None:
            object.__setattr__(self, "shape", history_shape(self.leads))

    def __repr__(self) -> str:
        return (
            f"History(source={self.source!r}, leads={len(self.leads):,}, "
            f"rejected={self.lead_rejects['row'].nunique():,} of {self.n_input_rows:,} rows, "
            f"as_of={self.as_of.isoformat()}, shape={self.shape.kind!r})"
        )

    @property
    def lead_rejects(self) -> pd.DataFrame:
        """The rejected rows of the leads export (``rejects`` also lists other tables' rows)."""
        if "table" not in self.rejects.columns:
            return self.rejects
        return self.rejects[self.rejects["table"] == "leads"]

    @property
    def lower_threshold_allowed(self) -> bool:
        """Whether a threshold below today's may be chosen: only from a lead history."""
        return self.shape.lower_threshold_allowed

    def column_label(self, name: str) -> str:
        """The user's name of a lead-table column (for messages), else the name itself."""
        return self.columns.get(name, name)

    @classmethod
    def from_run(cls, result) -> History:
        """A simulated history (``simulate.run``'s result) as a ``History``."""
        leads = validate_leads(result.leads.copy(), name="simulated lead table")
        return cls(
            leads=leads,
            rejects=empty_rejects(),
            as_of=result.as_of,
            source=f"simulate.run(seed={result.seed})",
            mapping=lead_table_mapping(leads.columns, timezone=result.scenario.timezone),
            extra_columns=(),
            n_input_rows=len(leads),
            events=result.events,
            counts_at="events",
        )

    def with_events(self, events: pd.DataFrame | str | os.PathLike) -> History:
        """The history with its behaviour events (a DataFrame or a CSV file), checked.

        Events must belong to the history's leads (those ``load_history`` rejected leave
        with their leads) and not come before their lead's creation; the lead table's count
        columns become the events' totals up to ``as_of``.
        """
        from calibrate.point_in_time import counts_at, read_events

        events = read_events(events, timezone=self.mapping.timezone)
        known = self.leads[["lead_id", "created_at"]]
        rejected = self.rejects["lead_id"].dropna().drop_duplicates()
        rejected = rejected[~rejected.isin(known["lead_id"])]
        events = events[~events["lead_id"].isin(rejected.to_numpy())].reset_index(drop=True)
        validate_events(events, leads=known, name="events")
        events = events[events["at"] <= self.as_of].reset_index(drop=True)
        leads = self.leads.copy()
        moments = pd.Series(self.as_of, index=range(len(leads)))
        totals = counts_at(leads["lead_id"].to_numpy(), moments, events, BEHAVIOUR_COLUMNS)
        for column in BEHAVIOUR_COLUMNS:
            leads[column] = totals[column].to_numpy()
        return dataclasses.replace(self, leads=leads, events=events, counts_at="events")


def load_history(
    path_or_frame: str | os.PathLike | pd.DataFrame,
    *,
    mapping: str | os.PathLike | ColumnMapping | Mapping[str, str] | None = None,
    as_of: str | pd.Timestamp | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
    on_error: str = "reject",
    max_reject_share: float = 0.05,
    events: pd.DataFrame | str | os.PathLike | None = None,
    counts_at: str = "end",
    deals: pd.DataFrame | str | os.PathLike | None = None,
    activities: pd.DataFrame | str | os.PathLike | None = None,
) -> History:
    """Read a lead history from a CSV file or a DataFrame (and its other tables) into the lead table.

    Parameters
    ----------
    path_or_frame : a CSV file, a DataFrame, or a ``simulate.run`` result: one row per lead
        (contact).
    mapping : ``"hubspot"``, ``"salesforce"``, a mapping file (``.toml`` or ``.json``, see
        ``calibrate.mapping_files``), a ``ColumnMapping``, a plain
        ``{lead-table column: export column}`` dict, or ``None`` when the export already
        uses lead-table names. Every column it names must be in the export.
    as_of : when the export was taken; default the latest time in it.
    sep, encoding : of the CSV files.
    on_error : ``"reject"`` leaves a bad row out and lists it in ``rejects``; ``"raise"``
        raises at the first bad row.
    max_reject_share : more bad rows than this share for one column and reason means the
        column itself is wrong (a date format, a type): one error instead of rejects.
    events : the behaviour events (a DataFrame or CSV with ``lead_id, at, kind``): the fit
        then takes every count as of the lead's MQL moment (``History.with_events``).
    counts_at : without events, what the export's count columns are: ``"end"`` (default:
        today's totals, which the fit warns about) or ``"decision"`` (snapshots taken at
        the MQL moment, for example a workflow that copied them into properties then).
    deals, activities : a deals (opportunities) export and an activities (engagements,
        tasks) export, joined to the leads by the mapping's ``TableJoin`` (see
        ``calibrate.joining``): they fill the opportunity, win, close, amount, stage and
        first touch that the leads export lacks.

    Examples
    --------
    >>> import io
    >>> from calibrate.mappings import hubspot_contacts
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
    if counts_at not in ("end", "decision"):
        raise ValueError(f"counts_at must be 'end' or 'decision', got {counts_at!r}")
    if on_error not in ("reject", "raise"):
        raise ValueError(f"on_error must be 'reject' or 'raise', got {on_error!r}")
    share_ok = isinstance(max_reject_share, int | float) and not isinstance(max_reject_share, bool)
    if not share_ok or not 0 <= max_reject_share <= 1:
        raise ValueError(f"max_reject_share must be in [0, 1], got {max_reject_share!r}")
    if hasattr(path_or_frame, "leads") and hasattr(path_or_frame, "truth"):
        return History.from_run(path_or_frame)
    raw, source, is_file = read_table(path_or_frame, sep=sep, encoding=encoding, what="history")
    mapping = resolve_mapping(mapping, raw.columns)
    given_as_of = None if as_of is None else _as_of(as_of, mapping.timezone)
    reader = Reader(raw, source, is_file, on_error, max_reject_share, as_of=given_as_of)
    join, joined = None, []
    if deals is not None or activities is not None:
        from calibrate.joining import join_tables

        join, joined = join_tables(
            {"deals": deals, "activities": activities},
            mapping,
            raw,
            sep=sep,
            encoding=encoding,
            on_error=on_error,
            max_share=max_reject_share,
        )
    leads, extra, used = reader.build(mapping, sep=sep, join=join)
    if given_as_of is None:
        times = [leads[c].max() for c in leads.columns if isinstance(leads[c].dtype, pd.DatetimeTZDtype)]
        times = [t for t in times if not pd.isna(t)]
        as_of_ts = max(times) if times else pd.Timestamp.now(tz="UTC")
    else:
        as_of_ts = given_as_of
    rejects = reader.rejects_frame()
    if joined and len(joined[0].rejects):
        rejects = pd.concat([rejects, joined[0].rejects[rejects.columns]], ignore_index=True)
    history = History(
        leads=leads,
        rejects=rejects,
        as_of=as_of_ts,
        source=source,
        mapping=mapping,
        extra_columns=tuple(extra),
        n_input_rows=len(raw),
        counts_at=counts_at,
        columns=used,
        tables=joined[0].tables if joined else None,
    )
    return history if events is None else history.with_events(events)


def _as_of(as_of, timezone: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(as_of)
    except (TypeError, ValueError):
        raise ValueError(f"as_of must be a date or a time like 2026-06-01, got {as_of!r}") from None
    if pd.isna(ts):
        raise ValueError(f"as_of must be a date or a time like 2026-06-01, got {as_of!r}")
    ts = ts.tz_localize(timezone) if ts.tzinfo is None else ts
    return ts.tz_convert("UTC")
