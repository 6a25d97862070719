"""Writing a run's tables to files (atomically, spreadsheet-safe CSV)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from simulate.atomic import write_all_atomic, write_atomic
from simulate.output_folder import file_fingerprint, output_folder, text_fingerprint
from simulate.scenario import Scenario
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
        if _is_text(s.dtype):
            text = s.astype("object")
            escaped = text.map(_escape)
            if not escaped.equals(text):
                out.isetitem(j, escaped)
    out.columns = [_escape(c) for c in frame.columns]
    if _is_text(out.index.dtype):
        out.index = out.index.astype("object").map(_escape)
    return out


def _is_text(dtype) -> bool:
    """Object, string (pandas 3's ``str`` included) or categorical: cells that may hold text."""
    return (
        pd.api.types.is_object_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
    )


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """Write ``frame`` as CSV atomically, with formula-like text cells escaped."""
    safe = safe_for_spreadsheet(frame)
    return write_atomic(path, _csv_writer(safe, **kwargs))


def write_run(
    result: RunResult,
    folder: str | os.PathLike,
    *,
    events: bool = True,
    inputs: dict[str, str] | None = None,
    command: str = "simulate.write_run",
) -> list[Path]:
    """Write ``leads.csv``, ``events.csv``, ``summary.csv`` and ``scenario.toml`` into ``folder``.

    The folder is written as one unit (:func:`simulate.output_folder.output_folder`): the
    files go into a staging folder next to it, with a ``manifest.json`` (seed, ``inputs``'
    fingerprints, package version, each file's checksum), which then replaces the folder.
    A failure leaves the folder as it was (a folder created for the run is removed again);
    a folder holding files that are not outputs of an earlier run is refused, and those
    files are left alone. The lead table and the events are validated first
    (``simulate.table``): a table that breaks the contract raises ``LeadTableError`` and
    nothing is written. Returns the paths of the four (or three) tables, not the manifest.
    """
    validate_leads(result.leads, name="leads.csv")
    if events:
        validate_events(result.events, leads=result.leads, name="events.csv")
    toml = result.scenario.to_toml()
    known = {"scenario": text_fingerprint(toml), **(inputs or {})}
    with output_folder(folder, command=command, seed=result.seed, inputs=known) as stage:
        names = write_run_files(result, stage, events=events)
    return [Path(folder) / name for name in names]


def scenario_input(path: str | os.PathLike | None) -> tuple[Scenario, dict[str, str]]:
    """The scenario a command runs (from ``path``, else the built-in one) and its fingerprint."""
    if path is None:
        scenario = Scenario()
        return scenario, {"scenario (built-in)": text_fingerprint(scenario.to_toml())}
    scenario = Scenario.from_toml(path)
    return scenario, {str(path): file_fingerprint(path)}


def write_run_files(result: RunResult, folder: Path, *, events: bool = True) -> list[str]:
    """Write a run's tables into an existing ``folder`` (all or nothing); return their names.

    For a folder already staged by :func:`simulate.output_folder.output_folder` (as
    ``calibrate demo`` does, to add its config and plots to the same unit); use
    :func:`write_run` otherwise.
    """
    tables = [("leads.csv", result.leads, False), ("summary.csv", result.summary, True)]
    if events:
        tables.append(("events.csv", result.events, False))
    files = [(folder / name, _csv_writer(safe_for_spreadsheet(table), index=index)) for name, table, index in tables]
    toml = result.scenario.to_toml()
    files.append((folder / "scenario.toml", lambda tmp: tmp.write_text(toml, encoding="utf-8")))
    return [p.name for p in write_all_atomic(files)]


def _csv_writer(frame: pd.DataFrame, **kwargs):
    if "lineterminator" not in kwargs and _has_carriage_return(frame):
        # the csv module quotes a cell only for the characters of the line terminator: a bare
        # "\r" in a text cell would otherwise be written unquoted and split the row
        kwargs["lineterminator"] = "\r\n"
    return lambda tmp: frame.to_csv(tmp, **kwargs)


def _has_carriage_return(frame: pd.DataFrame) -> bool:
    labels = [*frame.columns, *(frame.index if _is_text(frame.index.dtype) else [])]
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
