"""Writing a run's tables to files (atomically, spreadsheet-safe CSV)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from simulate._write import write_atomic
from simulate.run import RunResult

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_for_spreadsheet(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with a single quote."""
    out = frame.copy()
    for column in out.columns:
        s = out[column]
        if isinstance(s.dtype, pd.CategoricalDtype) or s.dtype == object or pd.api.types.is_string_dtype(s):
            text = s.astype("object")
            risky = text.map(lambda v: isinstance(v, str) and v.startswith(_FORMULA_START))
            if risky.any():
                out[column] = text.where(~risky, "'" + text.astype(str))
    return out


def write_csv(frame: pd.DataFrame, path: str | os.PathLike, **kwargs) -> Path:
    """Write ``frame`` as CSV atomically, with formula-like text cells escaped."""
    safe = safe_for_spreadsheet(frame)
    return write_atomic(path, lambda tmp: safe.to_csv(tmp, **kwargs))


def write_run(result: RunResult, folder: str | os.PathLike, *, events: bool = True) -> list[Path]:
    """Write ``leads.csv``, ``events.csv``, ``summary.csv`` and ``scenario.toml`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = [
        write_csv(result.leads, folder / "leads.csv", index=False),
        write_csv(result.summary, folder / "summary.csv"),
    ]
    if events:
        written.append(write_csv(result.events, folder / "events.csv", index=False))
    result.scenario.to_toml(folder / "scenario.toml")
    written.append(folder / "scenario.toml")
    return written
