"""Reading an export file: its bytes, its text, its header; one ``HistoryError`` for a bad file.

``read_csv_export`` reads a CSV file as text cells (``NaN`` where blank) under its stripped
header names; an empty file, a wrong delimiter, encoding or quoting, a line with more fields
than the header and a repeated header name raise one ``HistoryError`` that names the file and
the line. The cells are parsed into lead-table values by ``calibrate.reading``.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

__all__ = ["HistoryError", "check_header", "read_csv_export", "read_table", "source_name"]


class HistoryError(ValueError):
    """A history that cannot be read; the message names the file, the column and the row."""


def check_header(columns: Iterable, source: str) -> None:
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


# --- reading the file ---------------------------------------------------------------------
def source_name(path: str | os.PathLike | IO) -> str:
    """What messages call the export: the path, the file object's name, or ``"CSV text"``."""
    return str(path) if not hasattr(path, "read") else getattr(path, "name", "CSV text")


def read_csv_export(path: str | os.PathLike | IO, *, sep: str, encoding: str) -> pd.DataFrame:
    """Every cell of a CSV export as text (``NaN`` where blank), under its stripped header name.

    An empty file, a header without rows, a wrong encoding, delimiter or quoting, a line with
    more fields than the header and a repeated header name raise one ``HistoryError``.
    """
    name = source_name(path)
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
    check_header(header, name)
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


def read_table(path_or_frame, *, sep: str, encoding: str, what: str = "export") -> tuple[pd.DataFrame, str, bool]:
    """An export as cells under its header: ``(cells, source name, read from a file)``.

    A DataFrame is copied with its rows numbered from 0 (a repeated or odd index is the
    user's business, not an error) and its column names as text; each cell must hold one
    value. ``what`` names the table in a message about a wrong type.
    """
    if isinstance(path_or_frame, pd.DataFrame):
        raw = path_or_frame.reset_index(drop=True)
        raw.columns = [str(c) for c in raw.columns]
        check_cells(raw, "DataFrame")
        check_header(raw.columns, "DataFrame")
        return raw, "DataFrame", False
    if not isinstance(path_or_frame, str | os.PathLike) and not hasattr(path_or_frame, "read"):
        raise TypeError(
            f"the {what} must be a CSV file (a path or an open file) or a pandas DataFrame, "
            f"got {type(path_or_frame).__name__}"
        )
    raw = read_csv_export(path_or_frame, sep=sep, encoding=encoding)
    return raw, source_name(path_or_frame), True


_NOT_A_VALUE = (list, tuple, dict, set, frozenset, np.ndarray, bytes, bytearray)


def check_cells(raw: pd.DataFrame, source: str) -> None:
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
