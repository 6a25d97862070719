"""What a history left out: a short summary of its rejects, and the rejects as a CSV file.

``load_history`` lists every row it did not use in ``History.rejects`` (its table, row,
lead id, column, value and reason). ``summarise_rejects`` says how many rows of each table
were left out, the counts by reason (a reason without its cell value, so that one bad
column is one line) and the first rows; ``write_rejects`` writes them all beside an output,
never over an input.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

__all__ = ["rejects_path", "summarise_rejects", "write_rejects"]


def _kind(reason: str) -> str:
    """A reason without the quoted cell value: ``'lots' is not a number`` -> ``... is not a number``."""
    return re.sub(r"'[^']*'|\([^)]*UTC\)", "…", str(reason))


def summarise_rejects(history, *, first: int = 5) -> str:
    """Rows left out per table, counts by reason, and the first ``first`` rows (text)."""
    rejects = history.rejects
    if rejects.empty:
        return f"every one of the {history.n_input_rows:,} rows of {history.source} was used"
    lines = []
    tables = rejects["table"] if "table" in rejects.columns else pd.Series("leads", index=rejects.index)
    for table, part in rejects.groupby(tables, sort=False):
        rows = part["row"].nunique()
        of = f" of {history.n_input_rows:,}" if table == "leads" else ""
        lines.append(f"{rows:,}{of} rows of the {table} table were not used:")
        counts = part.assign(kind=part["column"].fillna("").astype(str) + ": " + part["reason"].map(_kind))
        for kind, count in counts["kind"].value_counts().head(10).items():
            lines.append(f"  {count:6,}  {kind.lstrip(': ')}")
    lines.append("first rows left out:")
    show = rejects.head(first)
    for r in show.itertuples(index=False):
        table = getattr(r, "table", "leads")
        lines.append(f"  {table} row {r.row} (lead {r.lead_id}): {r.column}: {r.reason}")
    return "\n".join(lines)


def rejects_path(out: str | os.PathLike) -> Path:
    """Where the rejects of a run that writes ``out`` go: ``out``'s name with ``.rejects.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.rejects.csv")


def write_rejects(history, path: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Write ``history.rejects`` as CSV (atomically, escaped for spreadsheets); never an input."""
    from simulate.io import write_csv

    path = Path(path)
    for given in inputs:
        if given is not None and Path(given).resolve() == path.resolve():
            raise ValueError(f"cannot write the rejects to {path}: it is an input file")
    return write_csv(history.rejects, path, index=False)
