"""Parsing a CRM export: every mapped column into lead-table values, bad rows as rejects.

``Reader`` parses the mapped columns of an export (CSV cells read by
``calibrate.export_file``, or a DataFrame) into the lead table, with the converters a
``ColumnMapping`` names (``calibrate.mappings``), and collects each bad row with its reason
as a reject, or raises when a whole column is wrong. A blank cell, or a program's marker
for missing (``MISSING_TEXT``: ``nan``, ``NULL``, ...), is a missing value; a required date
that is missing rejects its row. A date without a time is a day, which exists in every
time zone, also where a clock change skips midnight.

Rows: ``row`` counts data rows from 0 (the first row under the header is row 0); in a CSV
file that is ``line = row + 2`` (the header is line 1), which messages also give.

Limits: a time outside ``PLAUSIBLE_TIMES`` (1980 to 2099: a placeholder such as 1970-01-01 or
a typed year), after the given ``as_of`` (in the future), a number that is not finite or
larger than ``MAX_NUMBER`` in size, and a duplicated header name are bad values, never
silently used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from calibrate.converters import email_domain, employee_count, job_level, snake_case
from calibrate.export_file import HistoryError
from calibrate.mappings import KIND, REQUIRED, ColumnMapping
from simulate.table import LEAD_SCHEMA, LIFECYCLE_ORDER, LeadTableError, validate_leads

if TYPE_CHECKING:
    from calibrate.joining import Joined

PLAUSIBLE_TIMES = (pd.Timestamp("1980-01-01", tz="UTC"), pd.Timestamp("2100-01-01", tz="UTC"))
"""Times outside ``[start, end)`` are rejected: a placeholder date or a mistyped year."""
MAX_NUMBER = 1e15
"""Numbers (and counts) larger than this in size are rejected: beyond it a float is no longer
exact to the unit, and no lead has that many page views or that large a deal."""


# --- parsing columns ----------------------------------------------------------------------
_TZ_SUFFIX = re.compile(r"(Z|[+-]\d\d:?\d\d)$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class Reader:
    """Parses the mapped columns of one export, collecting rejected rows.

    ``raw`` is the export as read (text cells from a file, any cells from a DataFrame),
    ``source`` its name for messages; ``on_error`` and ``max_share`` are ``load_history``'s
    ``on_error`` and ``max_reject_share``; a time after ``as_of`` is in the future.
    """

    def __init__(
        self,
        raw: pd.DataFrame,
        source: str,
        is_file: bool,
        on_error: str,
        max_share: float,
        *,
        as_of: pd.Timestamp | None = None,
    ):
        self.raw = raw
        self.as_of = as_of
        self.source = source
        self.is_file = is_file
        self.on_error = on_error
        self.max_share = max_share
        self.n = len(raw)
        self.rejects: list[tuple[int, object, str, object, str]] = []
        self.bad = np.zeros(self.n, dtype=bool)
        self.date_only: dict[str, np.ndarray] = {}
        self.ids: np.ndarray | None = None
        self.table = "leads"

    def where(self, column: str, row: int) -> str:
        """Where a cell is, in the words of an error message (file, column, row)."""
        line = f" (line {row + 2})" if self.is_file else ""
        return f"{self.source}: column {column!r}, row {row}{line}"

    def reject(self, column: str, label: str, mask: np.ndarray, values, reason) -> None:
        """Reject the rows in ``mask``: ``values[row]`` is the cell, ``reason(row)`` says why;
        the reject names the user's column ``label`` (``column`` is the lead-table column).

        Raises one error instead when ``on_error="raise"`` or when the rows are more than
        ``max_reject_share`` of the file (then the column, not the rows, is wrong).
        """
        rows = np.flatnonzero(mask & ~self.bad)
        if rows.size == 0:
            return
        first = int(rows[0])
        if self.on_error == "raise" or rows.size > self.max_share * self.n:
            more = f" (and {rows.size - 1:,} more rows: {rows.size:,} of {self.n:,})" if rows.size > 1 else ""
            raise HistoryError(f"{self.where(label, first)}: {reason(first)}{more}")
        for r in rows:
            v = None if values is None else values[r]
            self.rejects.append((int(r), None, label, None if v is None else str(v), reason(int(r))))
        self.bad[rows] = True

    def rejects_frame(self) -> pd.DataFrame:
        """The rejected rows so far: one row per reject with its column, value and reason."""
        if not self.rejects:
            return empty_rejects()
        out = pd.DataFrame(self.rejects, columns=["row", "lead_id", "column", "value", "reason"])
        if self.ids is not None:
            out["lead_id"] = [self.ids[r] for r in out["row"]]
        out["table"] = self.table
        return out.sort_values(["row", "column"], kind="stable").reset_index(drop=True)

    # --- the whole table -----------------------------------------------------------------
    def build(
        self, mapping: ColumnMapping, *, sep: str, join: Callable[[pd.DataFrame, dict], Joined] | None = None
    ) -> tuple[pd.DataFrame, list[str], dict[str, str]]:
        """The lead table of the rows that parse (then the extra columns kept), the extra
        columns' names, and the export column of each lead-table column. ``join(leads,
        used)`` gives the columns of the deals and activities joined to the parsed rows
        (``calibrate.joining``)."""
        used = self.find_columns(mapping, sep=sep)
        leads = self.parse_columns(mapping, used)
        if join is not None:
            leads = self.join(leads, join(leads, used), used)
        self.check_ids(leads["lead_id"], used.get("lead_id", "lead_id"))
        self.reject_empty_required(leads, used)
        self.check_future(leads, used)
        self.check_order(leads, used)
        extra: list[str] = []
        if mapping.keep_extra:
            kept = self.extra_columns(mapping, used, leads)
            extra = list(kept)
            if kept:  # one concat, not one insert per column (exports can have 1,000s)
                leads = pd.concat([leads, pd.DataFrame(kept, index=leads.index)], axis=1)
        leads = leads.loc[~self.bad].reset_index(drop=True)
        for c in leads.columns:
            if isinstance(leads[c].dtype, pd.CategoricalDtype):
                leads[c] = leads[c].cat.remove_unused_categories()
        try:
            validate_leads(leads, name=self.source)
        except LeadTableError as exc:  # pragma: no cover - parsing above should prevent it
            raise HistoryError(str(exc)) from None
        return leads, extra, dict(used)

    def join(self, leads: pd.DataFrame, joined: Joined, used: dict[str, str]) -> pd.DataFrame:
        """Fill lead-table columns from the joined tables: the leads export's own value wins
        where it has one (a column of the export is never overwritten)."""
        for name, values in joined.columns.items():
            mine = leads[name] if name in leads.columns else pd.Series(np.nan, index=leads.index)
            own = mine.notna().to_numpy()
            if not own.any():
                used[name] = joined.labels[name]
            leads[name] = values.where(~own, mine) if own.any() else values
            if name in joined.date_only:
                was = self.date_only.get(name, np.zeros(self.n, dtype=bool))
                self.date_only[name] = np.where(own, was, joined.date_only[name])
        return leads

    def find_columns(self, mapping: ColumnMapping, *, sep: str) -> dict[str, str]:
        """Lead-table column -> export column; a required column neither found nor defaulted raises."""
        used = mapping.match(self.raw.columns)
        for target in REQUIRED:
            if target not in used and target not in mapping.defaults:
                wanted = mapping.candidates(target)
                hint = ""
                if len(self.raw.columns) == 1 and self.is_file:
                    hint = f"; the header has a single column, check the delimiter (sep={sep!r})"
                raise HistoryError(
                    f"{self.source}: required column {target!r} is missing "
                    f"(mapping {mapping.name!r} looks "
                    f"for {' or '.join(repr(w) for w in wanted)}; the file has "
                    f"{self.header_text()}){hint}"
                )
        for target in mapping.unmatched(self.raw.columns):
            wanted = " or ".join(repr(w) for w in mapping.candidates(target))
            raise HistoryError(
                f"{self.source}: mapping {mapping.name!r} key {target!r} names column {wanted}, which the "
                f"file lacks (the file has {self.header_text()}); correct the mapping, or remove the key"
            )
        return used

    def header_text(self, most: int = 12) -> str:
        """The export's column names, for a message."""
        cols = list(self.raw.columns)
        return ", ".join(repr(c) for c in cols[:most]) + (f", ... ({len(cols)} columns)" if len(cols) > most else "")

    def reject_empty_required(self, leads: pd.DataFrame, used: Mapping[str, str]) -> None:
        """A required time that is empty leaves its row out, with the user's column named."""
        for target in REQUIRED:
            if KIND[target] != "time" or target not in used:
                continue
            label = used[target]
            empty = leads[target].isna().to_numpy() & ~self.bad
            self.reject(target, label, empty, None, lambda r, label=label: f"{label!r} is empty (a required date)")

    def parse_columns(self, mapping: ColumnMapping, used: Mapping[str, str]) -> pd.DataFrame:
        """Every documented column, parsed from the export, from a default, or empty."""
        na = set(mapping.na_values)
        out: dict[str, pd.Series] = {}
        for col in LEAD_SCHEMA:
            name = col.name
            if name in used:
                raw = self.raw[used[name]]
                raw = _clean_text(raw, na)
                out[name] = self.parse(name, used[name], raw, mapping)
            elif name in mapping.defaults:
                out[name] = self.parse(name, name, pd.Series([mapping.defaults[name]] * self.n, dtype=object), mapping)
            elif col.kind != "count":  # an absent count is left out: "no events" would be a guess
                out[name] = _empty(name, self.n)
        leads = pd.DataFrame(out, index=pd.RangeIndex(self.n))
        self.ids = leads["lead_id"].to_numpy(dtype=object)
        if "customer_at" not in used and "closed_at" in used and "won" in used:
            leads["customer_at"] = leads["closed_at"].where(leads["won"].fillna(False).astype(bool))
            if "closed_at" in self.date_only:
                self.date_only["customer_at"] = self.date_only["closed_at"]
        return leads

    def extra_columns(self, mapping: ColumnMapping, used: Mapping[str, str], leads: pd.DataFrame) -> dict:
        """The export's other columns (not mapped, not dropped), as numbers or categories."""
        na = set(mapping.na_values)
        drop = {d.strip().lower() for d in mapping.drop}
        taken = set(used.values()) | {c for c in self.raw.columns if c.strip().lower() in drop}
        kept = {}
        for c in self.raw.columns:
            if c in taken:
                continue
            # never overwritten: a column named like a lead-table column mapped elsewhere
            name = f"{c} (export)" if c in leads.columns else c
            kept[name] = _infer(_clean_text(self.raw[c], na))
        return kept

    def parse(self, name: str, label: str, raw: pd.Series, mapping: ColumnMapping) -> pd.Series:
        """One export column as the lead-table column ``name`` of its kind (rejects recorded)."""
        kind = KIND[name]
        conv = mapping.converters.get(name)
        text = raw.to_numpy(dtype=object)
        present = ~pd.isna(raw).to_numpy()
        if conv == "employees":
            return self.numbers(name, label, pd.Series([employee_count(v) for v in text], dtype=object), text, present)
        if conv == "bool" or kind == "bool":
            values = np.array([_bool(v) for v in text], dtype=object)
            wrong = present & np.array([v is _BAD for v in values])
            self.column_type_check(label, wrong, present, text, "true/false (yes/no, 1/0, won/lost)")
            self.reject(
                name,
                label,
                wrong,
                text,
                lambda r: f"{text[r]!r} is not true/false (yes/no, 1/0, won/lost)",
            )
            values[wrong | ~present] = None
            return pd.Series(values, dtype="boolean")
        if kind == "time":
            return self.times(name, label, raw, mapping)
        if kind in ("number", "count"):
            return self.numbers(name, label, raw, text, present)
        if conv in _TEXT_CONVERTERS:
            convert = _TEXT_CONVERTERS[conv]
            text = np.array([convert(v) if p else None for v, p in zip(text, present, strict=True)], dtype=object)
        if kind == "id":
            return _ids(text)
        if kind == "category":
            # categories are text: a date object and a datetime64 of the same day are one value
            missing = pd.isna(pd.Series(text, dtype=object)).to_numpy()
            labels = np.array([None if m else str(v) for v, m in zip(text, missing, strict=True)], dtype=object)
            return pd.Series(pd.Categorical(labels))
        return pd.Series(text, dtype="string")

    def column_type_check(self, label, wrong, present, text, expected) -> None:
        """A column none of whose values parse is the wrong column: one error."""
        if present.any() and wrong[present].all() and self.on_error == "reject":
            row = int(np.flatnonzero(wrong)[0])
            raise HistoryError(
                f"{self.where(label, row)}: expected {expected}, got {text[row]!r} "
                f"(no value of the column parses: is it the right column, the right type?)"
            )

    def numbers(self, name, label, values: pd.Series, text, present) -> pd.Series:
        """A numeric column; cells that are not numbers or are out of range are rejected."""
        raw = values.to_numpy(dtype=object)
        num = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=float, copy=True)
        retry = np.flatnonzero(present & np.isnan(num))  # "1,200", "$ 300": cleaned first
        if retry.size:
            cleaned = pd.Series([_number_text(v) for v in raw[retry]], dtype=object)
            num[retry] = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
        wrong = present & np.isnan(num)
        self.column_type_check(label, wrong, present, text, "a number")
        self.reject(name, label, wrong, text, lambda r: f"{text[r]!r} is not a number")
        num[wrong] = np.nan
        huge = ~np.isnan(num) & ~(np.abs(num) <= MAX_NUMBER)
        self.reject(
            name,
            label,
            huge,
            text,
            lambda r: f"{text[r]!r} is not a finite number of at most {MAX_NUMBER:g} in size",
        )
        num[huge] = np.nan
        if KIND[name] == "count":
            bad = ~np.isnan(num) & ((num < 0) | (np.mod(num, 1) != 0))
            self.reject(name, label, bad, text, lambda r: f"{text[r]!r} is not a whole count >= 0")
            num[bad | np.isnan(num)] = 0.0  # CRMs leave a count blank when nothing happened
            return pd.Series(num.astype(np.int64))
        return pd.Series(num)

    def times(self, name, label, raw: pd.Series, mapping: ColumnMapping) -> pd.Series:
        """A time column as UTC timestamps, read in the mapping's time zone where it has none."""
        tz = mapping.timezone
        if isinstance(raw.dtype, pd.DatetimeTZDtype):
            utc, far = _plausible(raw.dt.tz_convert("UTC"))
            self.reject_far(name, label, far, raw.astype(str).to_numpy(dtype=object))
            return utc.astype("datetime64[ns, UTC]")
        present = ~pd.isna(raw).to_numpy()
        cells = raw.to_numpy(dtype=object)
        pairs = zip(cells, present, strict=True)
        text = np.array([str(v).strip() if p else None for v, p in pairs], dtype=object)
        out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
        fmt = mapping.date_formats.get(name, "ISO8601")
        far = np.zeros(self.n, dtype=bool)
        if pd.api.types.is_datetime64_any_dtype(raw.dtype):
            naive, has_tz = raw, np.zeros(self.n, dtype=bool)
        else:
            has_tz = np.array([v is not None and bool(_TZ_SUFFIX.search(v)) for v in text], dtype=bool)
            if "%z" in fmt or "%Z" in fmt:
                has_tz = present.copy()
            if has_tz.any():
                s = pd.Series(text[has_tz], index=raw.index[has_tz], dtype=object)
                aware, far_tz = _plausible(pd.to_datetime(s, format=fmt, errors="coerce", utc=True))
                out[has_tz] = aware.astype("datetime64[ns, UTC]")
                far[has_tz] = far_tz
            s = pd.Series(np.where(has_tz, None, text), index=raw.index, dtype=object)
            naive = pd.to_datetime(s, format=fmt, errors="coerce")
        naive, far_naive = _plausible(naive)
        far |= far_naive
        date_only = np.array([v is not None and bool(_DATE_ONLY.match(v)) for v in text], dtype=bool)
        if pd.api.types.is_datetime64_any_dtype(raw.dtype) and len(naive) and naive.notna().any():
            date_only = naive.notna().to_numpy() & (naive == naive.dt.normalize()).to_numpy(dtype=bool)
            date_only &= bool(date_only[naive.notna().to_numpy()].all())  # a column of dates only
        local = _localize(naive, tz, date_only)
        naive_ok = naive.notna().to_numpy() & ~has_tz
        out[naive_ok] = local[naive_ok].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        clock = naive_ok & local.isna().to_numpy()
        self.reject_far(name, label, far, text)
        wrong = present & out.isna().to_numpy() & ~clock & ~far
        expect = "an ISO 8601 date (2026-01-31 or 2026-01-31 14:05)" if fmt == "ISO8601" else f"a date like {fmt!r}"
        self.column_type_check(label, wrong, present, text, expect)
        self.reject(
            name,
            label,
            wrong,
            text,
            lambda r: f"{text[r]!r} is not {expect}; set ColumnMapping.date_formats",
        )
        self.reject(
            name,
            label,
            clock,
            text,
            lambda r: f"{text[r]!r} does not exist or is ambiguous in time zone {tz} (clock change)",
        )
        self.date_only[name] = date_only
        return out

    def reject_far(self, name: str, label: str, far: np.ndarray, text: np.ndarray) -> None:
        """Reject times outside the plausible years."""
        lo, hi = PLAUSIBLE_TIMES
        self.reject(
            name,
            label,
            far,
            text,
            lambda r: f"{text[r]!r} is outside {lo.year} to {hi.year - 1} (a placeholder date or a mistyped year?)",
        )

    def check_future(self, leads: pd.DataFrame, used: Mapping[str, str]) -> None:
        """With a given as-of date, a time after it is in the future of the export.

        ``closed_at`` is left out: CRMs keep the expected close date of an open deal there.
        """
        if self.as_of is None:
            return
        for name in leads.columns:
            s = leads[name]
            if KIND.get(name) != "time" or name == "closed_at":
                continue
            after = (s > self.as_of).to_numpy(dtype=bool, na_value=False)
            if after.any():
                values = s.to_numpy(dtype=object)
                self.reject(
                    name,
                    used.get(name, name),
                    after,
                    values,
                    lambda r, name=name, values=values: (
                        f"{name} ({_short(values[r])}) is after the as-of date "
                        f"({_short(self.as_of)}): a time in the future"
                    ),
                )

    def check_ids(self, ids: pd.Series, label: str) -> None:
        """Refuse missing or repeated lead ids, naming the rows."""
        missing = ids.isna().to_numpy()
        self.reject("lead_id", label, missing, None, lambda r: "the lead id is empty")
        dup = ids.duplicated(keep="first").to_numpy() & ~missing
        if dup.any():
            first_row = {}
            for r, v in enumerate(ids.to_numpy(dtype=object)):
                if not missing[r]:
                    first_row.setdefault(v, r)
            values = ids.to_numpy(dtype=object)
            self.reject(
                "lead_id",
                label,
                dup,
                values,
                lambda r: f"lead id {values[r]!r} repeats row {first_row.get(values[r])}",
            )

    def check_order(self, leads: pd.DataFrame, used: Mapping[str, str]) -> None:
        """Reject rows whose lifecycle times run backwards."""
        present = [c for c in LIFECYCLE_ORDER if leads[c].notna().any()]
        date_only = self.date_only
        for i, b in enumerate(present[1:], start=1):
            tb = leads[b]
            # compare with the latest earlier stage that is filled
            prev = leads[present[0]].copy()
            prev_name = pd.Series(present[0], index=leads.index, dtype=object)
            for a in present[1:i]:
                filled = leads[a].notna()
                prev = prev.where(~filled, leads[a])
                prev_name = prev_name.where(~filled, a)
            back = (tb < prev).to_numpy(dtype=bool, na_value=False).copy()
            if b in date_only:
                # a date without a time is the whole day: same day as the earlier stage is fine
                same_day = back & date_only[b] & (tb.dt.date == prev.dt.date).to_numpy(dtype=bool, na_value=False)
                if same_day.any():
                    leads.loc[same_day, b] = prev[same_day]
                    back &= ~same_day
            if back.any():
                label = used.get(b, b)
                names = prev_name.to_numpy(dtype=object)
                tbv, pv = tb.to_numpy(dtype=object), prev.to_numpy(dtype=object)
                reasons = {
                    int(r): f"{b} ({_short(tbv[r])}) is earlier than {names[r]} ({_short(pv[r])})"
                    for r in np.flatnonzero(back)
                }
                self.reject(b, label, back, tbv, reasons.__getitem__)


def _localize(naive: pd.Series, tz: str, date_only: np.ndarray) -> pd.Series:
    """Naive local times in zone ``tz``; a time a clock change skips or repeats is missing.

    A date without a time is the day, which exists in every zone: where its midnight is
    skipped (Sao Paulo's spring-forward was at 00:00) it starts at the first moment that
    exists, where midnight is repeated at the first of the two.
    """
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    fix = date_only & naive.notna().to_numpy() & local.isna().to_numpy()
    if fix.any():
        days = naive[fix].dt.tz_localize(tz, ambiguous=np.ones(int(fix.sum()), dtype=bool), nonexistent="shift_forward")
        local = local.astype(days.dtype)
        local[fix] = days
    return local


def _short(t) -> str:
    return pd.Timestamp(t).strftime("%Y-%m-%d %H:%M UTC")


def _plausible(times: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """``times`` with those outside ``PLAUSIBLE_TIMES`` set missing, and where they were."""
    lo, hi = PLAUSIBLE_TIMES
    if times.dt.tz is None:
        lo, hi = lo.tz_localize(None), hi.tz_localize(None)
    far = (times.notna() & ~((times >= lo) & (times < hi))).to_numpy(dtype=bool)
    return times.where(~far), far


def empty_rejects() -> pd.DataFrame:
    """``History.rejects`` without rows: ``row``, ``lead_id``, ``column``, ``value``, ``reason``,
    ``table`` (``"leads"``, ``"deals"`` or ``"activities"``: the export the row is in)."""
    return pd.DataFrame(
        {
            "row": pd.Series(dtype="int64"),
            "lead_id": pd.Series(dtype=object),
            "column": pd.Series(dtype=object),
            "value": pd.Series(dtype=object),
            "reason": pd.Series(dtype=object),
            "table": pd.Series(dtype=object),
        }
    )


def _empty(name: str, n: int) -> pd.Series:
    kind = KIND[name]
    if kind == "time":
        return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]")
    if kind in ("number", "count"):
        return pd.Series(np.nan, index=range(n))
    if kind == "bool":
        return pd.Series(pd.NA, index=range(n), dtype="boolean")
    if kind == "category":
        return pd.Series(pd.Categorical([None] * n))
    return pd.Series(pd.NA, index=range(n), dtype="string")


MISSING_TEXT = frozenset({"", "nan", "NaN", "NAN", "None", "none", "null", "NULL", "Null", "NaT", "<NA>", "#N/A"})
"""Text that a program writes for a missing value (pandas' ``nan``, SQL's ``NULL``, a
spreadsheet's ``#N/A``): read as missing, never as a category of its own. ``NA`` and
``n/a`` are not in it: a person may mean North America, or "not applicable"."""


def _clean_text(raw: pd.Series, na: set) -> pd.Series:
    """Cells stripped of spaces, with blanks and missing markers as ``None``."""
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    if not (raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype)):
        return raw
    s = raw.astype(object)
    s = s.map(lambda v: v.strip() if isinstance(v, str) else v)
    return s.where(~s.isin(na | MISSING_TEXT) & s.notna(), None)


def _infer(s: pd.Series) -> pd.Series:
    """An extra column: numbers if every value is one, else categories."""
    if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
        return s
    num = pd.to_numeric(s, errors="coerce")
    if (num.notna() == s.notna()).all() and s.notna().any():
        return num.astype(float)
    return pd.Series(pd.Categorical(s.to_numpy(dtype=object)))


def _ids(text: np.ndarray) -> pd.Series:
    s = pd.Series(text, dtype=object)
    present = s.notna()
    as_text = s[present].astype(str)
    if as_text.str.fullmatch(r"\d{1,18}").all() and present.all():
        return as_text.astype(np.int64).reset_index(drop=True)
    return s.map(lambda v: None if pd.isna(v) else str(v)).astype("string")


_BAD = object()


def _bool(v):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    t = str(v).strip().lower()
    if t in ("true", "t", "yes", "y", "1", "1.0", "won", "closed won", "closed_won"):
        return True
    if t in ("false", "f", "no", "n", "0", "0.0", "lost", "closed lost", "closed_lost"):
        return False
    return _BAD


def _number_text(v):
    if v is None or isinstance(v, int | float | np.number):
        return v
    t = str(v).strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
    t = re.sub(r"^[$€£]", "", t)
    return t


_TEXT_CONVERTERS = {"snake": snake_case, "job_title": job_level, "email": email_domain}
"""The named converters from text to text (``"employees"`` and ``"bool"`` are parsed apart)."""
