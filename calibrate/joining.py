"""Joining several exports: deals (opportunities) and activities (engagements, tasks) onto the leads.

A CRM exports one table per object. ``load_history(leads, deals=..., activities=...)`` reads
each with the ``TableJoin`` its mapping names (``calibrate.mappings``), links its rows to the
leads by a key (a deal's "Associated Contact IDs" holds the contacts' ids, a Salesforce
lead's ``ConvertedOpportunityId`` the opportunity's ``Id``; a cell may hold several keys
separated by ``;`` or ``,``), and gives each lead:

- from its deals: ``opportunity_at`` = the earliest deal's creation; ``won`` = a deal was
  won (false when every deal was lost, missing while one is open); ``customer_at`` and
  ``closed_at`` = the first won deal's close (else the last lost deal's); ``amount`` = the
  won deals' total (else the latest deal's); ``deal_stage`` = the won deal's stage (else
  the latest deal's). A deal created before its lead was (an older deal of the same
  contact) is not that lead's outcome.
- from its activities: ``first_touch_at`` = the earliest activity at or after the lead's
  creation that is a touch (not a note or a to-do, not a task still open), and its
  ``rep_id``.

The leads export's own value wins where it has one: a joined table only fills what the
leads export lacks. Every row of the other tables is used or listed in the rejects with
its table and reason (bad values, no key, no lead with its key, created before its lead,
not a touch); when no row at all matches a lead, the keys are wrong: one ``HistoryError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.converters import snake_case
from calibrate.export_file import HistoryError, read_table
from calibrate.mappings import TABLE_TARGETS, ColumnMapping, TableJoin
from calibrate.reading import Reader, _clean_text

__all__ = ["Joined", "join_tables"]

_SPLIT = re.compile(r"\s*[;,]\s*")
_SALESFORCE_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9]{18}")
_STAGES = {"closedwon": "closed_won", "closedlost": "closed_lost", "won": "closed_won", "lost": "closed_lost"}


@dataclass(frozen=True, slots=True, eq=False)
class Joined:
    """What the other tables give the leads, and how each of their rows was used.

    Attributes
    ----------
    columns : lead-table column -> a value per leads row (missing where none).
    labels : lead-table column -> where it came from, for messages (``"deals.csv: 'Create Date'"``).
    date_only : lead-table time column -> whether each row's value was a date without a time.
    rejects : the rows of the other tables not used: ``table, row, lead_id, column, value, reason``.
    tables : one row per table: ``table, source, rows, used, key, lead_key``.
    """

    columns: dict[str, pd.Series]
    labels: dict[str, str]
    date_only: dict[str, np.ndarray]
    rejects: pd.DataFrame
    tables: pd.DataFrame


@dataclass(frozen=True, slots=True, eq=False)
class _Table:
    kind: str
    join: TableJoin
    source: str
    reader: Reader
    used: dict[str, str]
    values: dict[str, pd.Series]
    keys: list[list[str]]
    key_label: str
    skip: dict[str, np.ndarray]  # reason -> rows that are no touch


def join_tables(
    tables: Mapping[str, object],
    mapping: ColumnMapping,
    raw_leads: pd.DataFrame,
    *,
    sep: str,
    encoding: str,
    on_error: str,
    max_share: float,
) -> tuple[Callable[[pd.DataFrame, dict], Joined], list[Joined]]:
    """Read the other tables now; return the join to apply to the parsed leads, and a list
    that receives its result (for ``History.tables`` and the rejects).

    ``tables`` maps ``"deals"`` / ``"activities"`` to a CSV file or a DataFrame (``None``
    entries are left out).
    """
    read = []
    for kind, source in tables.items():
        if source is None:
            continue
        join = getattr(mapping, kind)
        if join is None:
            raise HistoryError(
                f"mapping {mapping.name!r} says nothing about a {kind} table: give it a TableJoin "
                f"(ColumnMapping({kind}=...), or [{kind}] in a mapping file)"
            )
        read.append(_read(kind, source, join, sep=sep, encoding=encoding, on_error=on_error, max_share=max_share))
    result: list[Joined] = []

    def apply(leads: pd.DataFrame, used: dict) -> Joined:
        joined = _join(read, leads, used, raw_leads, mapping)
        result.append(joined)
        return joined

    return apply, result


def _read(kind, source, join: TableJoin, *, sep, encoding, on_error, max_share) -> _Table:
    raw, name, is_file = read_table(source, sep=sep, encoding=encoding, what=f"{kind} table")
    name = f"{kind} DataFrame" if not is_file else name
    reader = Reader(raw, name, is_file, on_error, max_share)
    key = _find(raw.columns, join.key)
    if key is None:
        raise HistoryError(
            f"{name}: the {kind} table has no key column (mapping {join.mapping.name!r} looks for "
            f"{' or '.join(repr(k) for k in TableJoin.names(join.key))}; the file has {reader.header_text()}); "
            f"name it with TableJoin.key (--{kind}-key)"
        )
    used = {t: c for t, c in join.mapping.match(raw.columns).items() if t in TABLE_TARGETS[kind]}
    for target in join.mapping.unmatched(raw.columns):
        raise HistoryError(
            f"{name}: mapping {join.mapping.name!r} key {target!r} names column "
            f"{' or '.join(repr(c) for c in join.mapping.candidates(target))}, which the file lacks "
            f"(the file has {reader.header_text()})"
        )
    if not used:
        wanted = ", ".join(TABLE_TARGETS[kind])
        raise HistoryError(
            f"{name}: the {kind} table has none of the columns it must give ({wanted}; the file has "
            f"{reader.header_text()}); map them in the mapping's {kind} table"
        )
    na = set(join.mapping.na_values)
    values = {t: reader.parse(t, c, _clean_text(raw[c], na), join.mapping) for t, c in used.items()}
    keys = [_keys(v) for v in _clean_text(raw[key], set()).to_numpy(dtype=object)]
    skip: dict[str, np.ndarray] = {}
    if kind == "activities":
        for column, refused, why in (
            (join.type_column, join.not_a_touch, "its type is no touch of the lead (a note or a to-do)"),
            (join.status_column, join.not_done, "its status says the touch has not happened yet"),
        ):
            found = _find(raw.columns, column)
            if found is not None:
                text = _clean_text(raw[found], na).map(lambda v: None if v is None else snake_case(v))
                skip[f"{found!r}: {why}"] = text.isin([snake_case(r) for r in refused]).to_numpy()
    return _Table(kind, join, name, reader, used, values, keys, key, skip)


def _join(read: list[_Table], leads: pd.DataFrame, used: dict, raw_leads: pd.DataFrame, mapping) -> Joined:
    n = len(leads)
    columns: dict[str, pd.Series] = {}
    labels: dict[str, str] = {}
    date_only: dict[str, np.ndarray] = {}
    rejects, summary = [], []
    for table in read:
        lead_key, lead_keys = _lead_keys(table, leads, used, raw_leads)
        pairs, unmatched = _pairs(lead_keys, table.keys)
        reader = table.reader
        reasons: dict[int, tuple[str, object, str]] = {}
        for r in np.flatnonzero(reader.bad):
            reasons[int(r)] = ("", None, "")  # already rejected by the reader with its reason
        for r, k in enumerate(table.keys):
            if r in reasons:
                continue
            if not k:
                reasons[r] = (table.key_label, None, f"the key column {table.key_label!r} is empty")
            elif r in unmatched:
                reasons[r] = (table.key_label, "; ".join(k), f"no lead has this {lead_key}")
        for why, rows in table.skip.items():
            for r in np.flatnonzero(rows):
                reasons.setdefault(int(r), ("", None, why))
        pairs = pairs[~pairs["t"].isin(list(reasons))].reset_index(drop=True)
        if pairs.empty and len(table.keys):
            raise HistoryError(
                f"{table.source}: no row of the {table.kind} table matches a lead: its {table.key_label!r} "
                f"(for example {_examples(table.keys)}) and the leads' {lead_key} (for example "
                f"{_examples(lead_keys)}) share no value; check the join keys (TableJoin.key and lead_key)"
            )
        before = _before_lead(table, pairs, leads)
        kept = set(pairs.loc[~before, "t"].tolist())
        date = table.used.get("opportunity_at" if table.kind == "deals" else "first_touch_at", "")
        for t in set(pairs.loc[before, "t"].tolist()) - kept:
            why = f"dated before its lead was created (an older {table.kind[:-1]} of the contact)"
            reasons[int(t)] = (date, table.reader.raw[date].iloc[int(t)], why)
        pairs = pairs[~before].reset_index(drop=True)
        given = _deals(table, pairs, n) if table.kind == "deals" else _activities(table, pairs, n)
        for name, (values, flags) in given.items():
            columns[name] = values
            origin = {"customer_at": "closed_at", "won": "won" if "won" in table.used else "deal_stage"}.get(name, name)
            labels[name] = f"{table.source}: {table.used.get(origin, name)!r}"
            if flags is not None:
                date_only[name] = flags
        rejects.append(_rejects(table, reasons, pairs, leads))
        summary.append(
            (table.kind, table.source, len(table.keys), int(pairs["t"].nunique()), table.key_label, lead_key)
        )
    frame = pd.concat(rejects, ignore_index=True) if rejects else None
    tables = pd.DataFrame(summary, columns=["table", "source", "rows", "used", "key", "lead_key"])
    return Joined(columns, labels, date_only, frame, tables)


def _lead_keys(table: _Table, leads: pd.DataFrame, used: dict, raw: pd.DataFrame) -> tuple[str, list[list[str]]]:
    """The leads' side of the key: the column named by ``lead_key``, else the lead id."""
    if TableJoin.names(table.join.lead_key):
        found = _find(raw.columns, table.join.lead_key)
        if found is None:
            raise HistoryError(
                f"the leads export has no column {' or '.join(map(repr, TableJoin.names(table.join.lead_key)))} "
                f"to join the {table.kind} table by (TableJoin.lead_key)"
            )
        return repr(found), [_keys(v) for v in _clean_text(raw[found], set()).to_numpy(dtype=object)]
    label = repr(used.get("lead_id", "lead_id"))
    return label, [_keys(v) for v in leads["lead_id"].astype(object).to_numpy()]


def _keys(cell) -> list[str]:
    """The keys in one cell: split at ``;`` or ``,``; a whole float as an integer; a
    Salesforce 18-character id as its 15-character form (both name the same record)."""
    if cell is None or (not isinstance(cell, str) and pd.isna(cell)):
        return []
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    out = []
    for k in _SPLIT.split(str(cell).strip()):
        if not k:
            continue
        k = k[:-2] if k.endswith(".0") and k[:-2].isdigit() else k
        out.append(k[:15] if _SALESFORCE_ID.fullmatch(k) else k)
    return out


def _pairs(lead_keys: list[list[str]], table_keys: list[list[str]]) -> tuple[pd.DataFrame, set[int]]:
    """Every (lead row, table row) that share a key, and the table rows that match none."""
    lk = pd.DataFrame(
        [(r, k) for r, ks in enumerate(lead_keys) for k in ks], columns=["lead", "key"], dtype=object
    ).drop_duplicates()
    tk = pd.DataFrame([(r, k) for r, ks in enumerate(table_keys) for k in ks], columns=["t", "key"], dtype=object)
    pairs = tk.merge(lk, on="key")[["lead", "t"]].drop_duplicates().astype(np.int64).reset_index(drop=True)
    with_keys = {r for r, ks in enumerate(table_keys) if ks}
    return pairs, with_keys - set(pairs["t"].tolist())


def _before_lead(table: _Table, pairs: pd.DataFrame, leads: pd.DataFrame) -> np.ndarray:
    """Pairs whose row is dated before the lead's creation (a date alone: before its day)."""
    name = "opportunity_at" if table.kind == "deals" else "first_touch_at"
    if name not in table.values or pairs.empty:
        return np.zeros(len(pairs), dtype=bool)
    at = table.values[name].to_numpy()[pairs["t"].to_numpy()]
    created = leads["created_at"].to_numpy()[pairs["lead"].to_numpy()]
    at, created = pd.Series(at, dtype="datetime64[ns, UTC]"), pd.Series(created, dtype="datetime64[ns, UTC]")
    early = (at < created).to_numpy(dtype=bool, na_value=False)
    day = table.reader.date_only.get(name, np.zeros(len(table.keys), dtype=bool))[pairs["t"].to_numpy()]
    same_day = day & (at.dt.date == created.dt.date).to_numpy(dtype=bool, na_value=False)
    return early & ~same_day


def _value(table: _Table, name: str, rows: np.ndarray, dtype=object) -> pd.Series:
    if name not in table.values:
        return pd.Series([None] * len(rows), dtype=dtype)
    return table.values[name].iloc[rows].reset_index(drop=True)


def _deals(table: _Table, pairs: pd.DataFrame, n: int) -> dict[str, tuple[pd.Series, np.ndarray | None]]:
    """Per lead: its opportunity, win, close, amount and stage (see the module docstring)."""
    t = pairs["t"].to_numpy()
    d = pd.DataFrame({"lead": pairs["lead"].to_numpy(), "t": t})
    d["created"] = _value(table, "opportunity_at", t, "datetime64[ns, UTC]")
    d["closed"] = _value(table, "closed_at", t, "datetime64[ns, UTC]")
    d["amount"] = pd.to_numeric(_value(table, "amount", t, float), errors="coerce")
    stage = _value(table, "deal_stage", t).astype(object)
    stage = stage.map(lambda v: None if v is None or pd.isna(v) else _STAGES.get(str(v).replace("_", ""), str(v)))
    d["stage"] = stage
    if "won" in table.values:
        won = _value(table, "won", t, "boolean")
    else:  # the stage says it: closed won, closed lost, or still open
        won = stage.map(
            lambda v: None if v is None else True if v == "closed_won" else False if v == "closed_lost" else None
        )
    d["won"], d["lost"] = won.eq(True).fillna(False).to_numpy(bool), won.eq(False).fillna(False).to_numpy(bool)
    d = d.sort_values(["lead", "created", "t"], na_position="first", kind="stable")
    g = d.groupby("lead", sort=True)
    wins = d[d["won"]].groupby("lead")
    any_won, all_lost = g["won"].any(), g["lost"].all()
    latest = g.tail(1).set_index("lead")
    first_win = d[d["won"]].sort_values(["lead", "closed"], kind="stable").groupby("lead").head(1).set_index("lead")
    closed = first_win["closed"].reindex(any_won.index)
    lost_close = d[d["lost"]].groupby("lead")["closed"].max().reindex(any_won.index)
    closed = closed.where(any_won, lost_close.where(all_lost))
    won = pd.Series(pd.NA, index=any_won.index, dtype="boolean").mask(all_lost, False).mask(any_won, True)
    amount = wins["amount"].sum(min_count=1).reindex(any_won.index).where(any_won, latest["amount"])
    stage = first_win["stage"].reindex(any_won.index).where(any_won, latest["stage"])
    has = set(table.values)
    knows_win = bool(has & {"won", "deal_stage"})
    out = {
        "opportunity_at": (g["created"].min(), "opportunity_at" in has),
        "won": (won, knows_win),
        "closed_at": (closed, "closed_at" in has and knows_win),
        "customer_at": (closed.where(any_won), "closed_at" in has and knows_win),
        "amount": (amount, "amount" in has),
        "deal_stage": (stage, "deal_stage" in has),
    }
    flags = {"opportunity_at": "opportunity_at", "closed_at": "closed_at", "customer_at": "closed_at"}
    return {
        name: (_per_row(per_lead, n, name), _flags(table, flags[name], d, n) if name in flags else None)
        for name, (per_lead, given) in out.items()
        if given
    }


def _activities(table: _Table, pairs: pd.DataFrame, n: int) -> dict[str, tuple[pd.Series, np.ndarray | None]]:
    """Per lead: its earliest touch and the rep who made it."""
    t = pairs["t"].to_numpy()
    d = pd.DataFrame({"lead": pairs["lead"].to_numpy(), "t": t})
    d["at"] = _value(table, "first_touch_at", t, "datetime64[ns, UTC]")
    d["rep"] = _value(table, "rep_id", t)
    d = d[d["at"].notna()].sort_values(["lead", "at", "t"], kind="stable").groupby("lead").head(1).set_index("lead")
    result = {
        "first_touch_at": (_per_row(d["at"], n, "first_touch_at"), _flags(table, "first_touch_at", d.reset_index(), n))
    }
    if "rep_id" in table.values:
        result["rep_id"] = (_per_row(d["rep"], n, "rep_id"), None)
    return result


def _per_row(per_lead: pd.Series, n: int, name: str) -> pd.Series:
    """A per-lead result as one value per leads row, of the lead-table column's kind."""
    from calibrate.reading import _empty

    out = _empty(name, n)
    if len(per_lead):
        idx = per_lead.index.to_numpy(dtype=np.int64)
        if isinstance(out.dtype, pd.CategoricalDtype):
            values = np.full(n, None, dtype=object)
            values[idx] = per_lead.astype(object).where(per_lead.notna(), None).to_numpy()
            return pd.Series(pd.Categorical(values))
        if pd.api.types.is_string_dtype(out.dtype):
            values = np.full(n, None, dtype=object)
            values[idx] = per_lead.map(lambda v: None if v is None or pd.isna(v) else str(v)).to_numpy()
            return pd.Series(values, dtype="string")
        out.iloc[idx] = per_lead.to_numpy()
    return out


def _flags(table: _Table, name: str, d: pd.DataFrame, n: int) -> np.ndarray:
    """Whether each lead's value came from a date without a time."""
    flags = np.zeros(n, dtype=bool)
    rows = table.reader.date_only.get(name)
    if rows is not None and len(d):
        first = d.groupby("lead")["t"].first()
        flags[first.index.to_numpy(dtype=np.int64)] = rows[first.to_numpy(dtype=np.int64)]
    return flags


def _rejects(table: _Table, reasons: dict, pairs: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """The table's rows not used: the reader's bad values, then the join's reasons."""
    own = table.reader.rejects_frame()
    own["lead_id"] = None
    rows = [(r, None, c, v, why, table.kind) for r, (c, v, why) in sorted(reasons.items()) if why]
    more = pd.DataFrame(rows, columns=list(own.columns))
    out = pd.concat([own, more], ignore_index=True) if len(more) else own
    out["table"] = table.kind
    return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)


def _find(columns, wanted) -> str | None:
    """The first of ``wanted`` among ``columns`` (without regard to case or spaces)."""
    lookup = {str(c).strip().lower(): c for c in columns}
    return next((lookup[w.strip().lower()] for w in TableJoin.names(wanted) if w.strip().lower() in lookup), None)


def _examples(keys: list[list[str]]) -> str:
    seen = [k for ks in keys for k in ks][:3]
    return ", ".join(repr(k) for k in seen) or "none"


def with_keys(
    mapping: ColumnMapping, kind: str, *, key: str | None = None, lead_key: str | None = None
) -> ColumnMapping:
    """The mapping with the join keys of its ``kind`` table replaced (``--deals-key`` ...).

    A mapping without that table gets one that maps the table's lead-table names.
    """
    from dataclasses import replace

    from calibrate.mappings import _table_mapping

    join = getattr(mapping, kind)
    if join is None:
        join = TableJoin(kind=kind, key=key or "lead_id", mapping=_table_mapping(kind, {}, mapping.timezone))
    changes = {name: value for name, value in (("key", key), ("lead_key", lead_key)) if value is not None}
    return (
        replace(mapping, **{kind: replace(join, **changes)}) if changes or getattr(mapping, kind) is None else mapping
    )
