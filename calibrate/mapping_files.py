"""A column mapping as a file: TOML or JSON, for ``load_history(mapping=...)`` and ``--mapping FILE``.

The keys are ``ColumnMapping``'s; ``extends`` starts from a built-in mapping (``"hubspot"``
or ``"salesforce"``, with its deals and activities tables) and changes only what the file
says. Every column the file itself names must be in the export. ``[deals]`` and
``[activities]`` are ``TableJoin``'s keys, with their own ``columns`` (and ``converters``,
``date_formats``, ``na_values``)::

    name = "our hubspot"
    extends = "hubspot"
    timezone = "Europe/Berlin"
    na_values = ["Select"]

    [columns]
    customer_at = "Won date"
    region = ["Country/Region", "Country"]

    [deals]
    key = "Associated Contact IDs"

    [deals.columns]
    amount = "Amount in company currency"

A wrong key, value or type is one ``HistoryError`` naming the file and the key.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from calibrate.export_file import HistoryError
from calibrate.mappings import ColumnMapping, TableJoin, hubspot_contacts, salesforce_leads

__all__ = ["mapping_from_dict", "read_mapping"]

_BUILT_IN = {"hubspot": hubspot_contacts, "salesforce": salesforce_leads}
_TOP = {"name", "extends", "timezone", "columns", "date_formats", "converters", "defaults", "na_values"}
_TOP |= {"keep_extra", "drop", "optional", "deals", "activities"}
_TABLE = {"key", "lead_key", "columns", "converters", "date_formats", "na_values", "type_column", "status_column"}
_TABLE |= {"not_a_touch", "not_done"}


def read_mapping(path: str | os.PathLike) -> ColumnMapping:
    """The ``ColumnMapping`` a TOML (``.toml``) or JSON (``.json``) file describes."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HistoryError(f"{path}: no such mapping file") from None
    except UnicodeDecodeError as exc:
        raise HistoryError(f"{path}: not UTF-8 text (byte at position {exc.start}); save it as UTF-8") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise HistoryError(f"{path}: not valid {kind} ({exc})") from None
    return mapping_from_dict(data, source=str(path))


def mapping_from_dict(data: Mapping, *, source: str = "mapping") -> ColumnMapping:
    """A ``ColumnMapping`` from plain data (as a mapping file holds it); see the module docstring."""
    _table_of_keys(data, source, "")
    _known(data, _TOP, source, "", "ColumnMapping")
    timezone = _text(data.get("timezone", "UTC"), source, "timezone")
    base = ColumnMapping()
    if "extends" in data:
        name = _text(data["extends"], source, "extends")
        if name not in _BUILT_IN:
            raise HistoryError(f"{source}: extends: {name!r} is not one of {sorted(_BUILT_IN)}")
        base = _BUILT_IN[name](timezone=timezone)
    try:
        columns = _columns(data.get("columns", {}), source, "columns")
        mapping = replace(
            base,
            name=_text(data.get("name", base.name if "extends" in data else "custom"), source, "name"),
            columns={**base.columns, **columns},
            timezone=timezone,
            date_formats={**base.date_formats, **_texts(data.get("date_formats", {}), source, "date_formats")},
            converters={**base.converters, **_texts(data.get("converters", {}), source, "converters")},
            defaults={**base.defaults, **_table_of_keys(data.get("defaults", {}), source, "defaults")},
            na_values=(*base.na_values, *_list(data.get("na_values", []), source, "na_values")),
            keep_extra=_bool(data.get("keep_extra", base.keep_extra), source, "keep_extra"),
            drop=(*base.drop, *_list(data.get("drop", []), source, "drop")),
            optional=tuple(
                t for t in (*base.optional, *_list(data.get("optional", []), source, "optional")) if t not in columns
            ),
            deals=_join("deals", data, base.deals, source, timezone),
            activities=_join("activities", data, base.activities, source, timezone),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, HistoryError):
            raise
        raise HistoryError(f"{source}: {exc}") from None
    return mapping


def _join(kind: str, data: Mapping, base: TableJoin | None, source: str, timezone: str) -> TableJoin | None:
    if kind not in data:
        return None if base is None else replace(base, mapping=replace(base.mapping, timezone=timezone))
    table = _table_of_keys(data[kind], source, kind)
    _known(table, _TABLE, source, f"{kind}.", "TableJoin")
    if base is None and "key" not in table:
        raise HistoryError(f"{source}: {kind}: key is missing (the {kind} table's column that names the lead)")
    columns = _columns(table.get("columns", {}), source, f"{kind}.columns")
    old = base.mapping if base is not None else ColumnMapping(name=kind, keep_extra=False)
    mapping = replace(
        old,
        columns={**old.columns, **columns},
        timezone=timezone,
        converters={**old.converters, **_texts(table.get("converters", {}), source, f"{kind}.converters")},
        date_formats={**old.date_formats, **_texts(table.get("date_formats", {}), source, f"{kind}.date_formats")},
        na_values=(*old.na_values, *_list(table.get("na_values", []), source, f"{kind}.na_values")),
        optional=tuple(t for t in old.optional if t not in columns),
    )
    fields = {"kind": kind, "mapping": mapping}
    for key in ("key", "lead_key", "type_column", "status_column"):
        if key in table:
            value = table[key]
            fields[key] = tuple(_list(value, source, f"{kind}.{key}")) if isinstance(value, list) else value
            _text(value if isinstance(value, str) else "x", source, f"{kind}.{key}")
    for key in ("not_a_touch", "not_done"):
        if key in table:
            fields[key] = tuple(_list(table[key], source, f"{kind}.{key}"))
    return replace(base, **fields) if base is not None else TableJoin(**fields)


def _known(data: Mapping, known: set, source: str, prefix: str, what: str) -> None:
    for key in data:
        if key not in known:
            raise HistoryError(f"{source}: {prefix}{key}: unknown key; {what} takes {', '.join(sorted(known))}")


def _table_of_keys(value, source: str, key: str) -> dict:
    if not isinstance(value, Mapping):
        raise HistoryError(f"{source}: {key or '(top)'}: expected a table of keys, got {type(value).__name__}")
    return dict(value)


def _columns(value, source: str, key: str) -> dict:
    out = {}
    for target, column in _table_of_keys(value, source, key).items():
        if isinstance(column, list):
            out[target] = tuple(_list(column, source, f"{key}.{target}"))
        else:
            out[target] = _text(column, source, f"{key}.{target}")
    return out


def _texts(value, source: str, key: str) -> dict:
    return {k: _text(v, source, f"{key}.{k}") for k, v in _table_of_keys(value, source, key).items()}


def _text(value, source: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise HistoryError(f"{source}: {key}: expected a column name (text), got {value!r}")
    return value


def _list(value, source: str, key: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise HistoryError(f"{source}: {key}: expected a list of text, got {type(value).__name__}")
    return [_text(v, source, f"{key}[{i}]") for i, v in enumerate(value)]


def _bool(value, source: str, key: str) -> bool:
    if not isinstance(value, bool):
        raise HistoryError(f"{source}: {key}: expected true or false, got {value!r}")
    return value
