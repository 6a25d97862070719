"""Writing a run's tables to files (atomically, spreadsheet-safe CSV)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from simulate.atomic import write_all_atomic, write_atomic
from simulate.simulation import RunResult
from simulate.table import validate_events, validate_leads

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _escape(value):
    """``value`` with a ``'`` in front if a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text that a spreadsheet would run as a formula with a single quote.

    Text cells, column names and index labels that start with ``=``, ``+``, ``-``, ``@``, a
    tab or a carriage return are escaped, unless the text is a plain number such as ``-3.5``.
    Numeric, boolean and time columns are left alone: numbers stay numbers.
    """
    out = frame.copy()
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            text = s.astype("object")
            escaped = text.map(_escape)
            if not escaped.equals(text):
                out.isetitem(j, escaped)
    out.columns = [_escape(c) for c in frame.columns]
    if out.index.dtype == object:
        out.index = out.index.map(_escape)
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """Write ``frame`` as CSV atomically, with formula-like text cells escaped."""
    safe = safe_for_spreadsheet(frame)
    return write_atomic(path, _csv_writer(safe, **kwargs))


def write_run(result: RunResult, folder: str | os.PathLike, *, events: bool = True) -> list[Path]:
    """Write ``leads.csv``, ``events.csv``, ``summary.csv`` and ``scenario.toml`` into ``folder``.

    All or nothing: the files are written next to their targets and moved into place only
    when every one is complete, so a failure leaves the folder as it was (a folder created
    for the run is removed again). The lead table and the events are validated first
    (``simulate.table``): a table that breaks the contract raises ``LeadTableError`` and
    nothing is written.
    """
    validate_leads(result.leads, name="leads.csv")
    if events:
        validate_events(result.events, leads=result.leads, name="events.csv")
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    tables = [("leads.csv", result.leads, False), ("summary.csv", result.summary, True)]
    if events:
        tables.append(("events.csv", result.events, False))
    files = [(folder / name, _csv_writer(safe_for_spreadsheet(table), index=index)) for name, table, index in tables]
    toml = result.scenario.to_toml()
    files.append((folder / "scenario.toml", lambda tmp: tmp.write_text(toml, encoding="utf-8")))
    try:
        return write_all_atomic(files)
    except BaseException:
        if created and not any(folder.iterdir()):
            folder.rmdir()
        raise


def _csv_writer(frame: pd.DataFrame, **kwargs):
    if "lineterminator" not in kwargs and _has_carriage_return(frame):
        # the csv module quotes a cell only for the characters of the line terminator: a bare
        # "\r" in a text cell would otherwise be written unquoted and split the row
        kwargs["lineterminator"] = "\r\n"
    return lambda tmp: frame.to_csv(tmp, **kwargs)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    labels = [*frame.columns, *(frame.index if frame.index.dtype == object else [])]
    if any(isinstance(v, str) and "\r" in v for v in labels):
        return True
    for j in range(frame.shape[1]):
        s = frame.iloc[:, j]
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = pd.Series(s.cat.categories, dtype=object)
        if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
            if s.map(lambda v: isinstance(v, str) and "\r" in v).any():
                return True
    return False
