"""Working calendars: when a rep works, as intervals of minutes since the scenario start.

Time everywhere in ``simulate`` is float64 minutes since the scenario start, a
``datetime.date`` taken as 00:00 UTC. A :class:`WorkingCalendar` is stated in its owner's
local time zone and turned into a sorted ``(k, 2)`` array of disjoint ``[open, close)``
intervals by :meth:`WorkingCalendar.intervals`. The functions below work on such arrays.

Working time ``W(t)`` is the number of working minutes in ``(-inf, t)``; it rises with slope
one inside an interval and stays flat between intervals. :func:`to_working_time` is ``W``,
:func:`from_working_time` its inverse (the earliest instant at which work can go on),
:func:`working_minutes_between` is ``W(t1) - W(t0)`` and :func:`add_working_minutes` walks
``minutes`` of working time forward.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "ALWAYS_OPEN",
    "DAYS_PER_MONTH",
    "MINUTES_PER_DAY",
    "WorkingCalendar",
    "add_working_minutes",
    "from_working_time",
    "merge_intervals",
    "remove_blocks",
    "shrink",
    "split_by_day",
    "to_working_time",
    "working_minutes_between",
]

_UTC = datetime.UTC

MINUTES_PER_DAY = 1440.0
"""Minutes in a calendar day (time everywhere is float minutes)."""

DAYS_PER_MONTH = 365.25 / 12
"""Days in an average month: every "per month" figure divides by months of this length."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkingCalendar:
    """When someone works, in their local time zone.

    Parameters
    ----------
    timezone : str
        IANA time zone name, such as ``"Europe/Berlin"``.
    weekdays : tuple of int
        Working weekdays, Monday = 0 ... Sunday = 6.
    start_hour, end_hour : float
        Local opening and closing hour, ``0 <= start_hour < end_hour <= 24``.
    holidays : tuple of str
        Local dates off, as ISO strings ``"2026-12-25"``.

    Examples
    --------
    >>> import datetime
    >>> cal = WorkingCalendar(timezone="Europe/Berlin")
    >>> cal.intervals(datetime.date(2026, 1, 5), days=1)  # Monday and Tuesday, CET = UTC+1
    array([[ 480.,  960.],
           [1920., 2400.]])
    """

    timezone: str = "America/New_York"
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    start_hour: float = 9.0
    end_hour: float = 17.0
    holidays: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(
                f"WorkingCalendar.timezone must be an IANA time zone name, got {self.timezone!r}"
            ) from None
        object.__setattr__(self, "weekdays", tuple(self.weekdays))
        object.__setattr__(self, "holidays", tuple(self.holidays))
        if not self.weekdays:
            raise ValueError("WorkingCalendar.weekdays must name at least one weekday, got ()")
        for day in self.weekdays:
            if isinstance(day, bool) or not isinstance(day, int | np.integer) or not 0 <= day <= 6:
                raise ValueError(
                    f"WorkingCalendar.weekdays must be integers in [0, 6] (Monday = 0), got {self.weekdays}"
                )
        if len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError(f"WorkingCalendar.weekdays has duplicates: {self.weekdays}")
        if not 0 <= self.start_hour < 24:
            raise ValueError(f"WorkingCalendar.start_hour must be in [0, 24), got {self.start_hour}")
        if not self.start_hour < self.end_hour <= 24:
            raise ValueError(
                f"WorkingCalendar.end_hour must be in (start_hour, 24] = ({self.start_hour}, 24], got {self.end_hour}"
            )
        for day in self.holidays:
            try:
                datetime.date.fromisoformat(day)
            except (TypeError, ValueError):
                raise ValueError(f"WorkingCalendar.holidays must be ISO dates like '2026-12-25', got {day!r}") from None

    def has_working_day(self, start: datetime.date, days: int) -> bool:
        """Whether a working weekday that is not a holiday falls in the ``days`` days from ``start``.

        Examples
        --------
        >>> import datetime
        >>> WorkingCalendar(holidays=("2026-01-05",)).has_working_day(datetime.date(2026, 1, 3), 3)
        False
        """
        holidays = {datetime.date.fromisoformat(h) for h in self.holidays}
        weekdays = set(self.weekdays)
        for offset in range(int(days)):
            day = start + datetime.timedelta(days=offset)
            if day.weekday() in weekdays and day not in holidays:
                return True
        return False

    def intervals(self, start: datetime.date, days: int) -> np.ndarray:
        """Working intervals in minutes since ``start`` 00:00 UTC.

        Covers the local days ``start - 1`` to ``start + days`` (so the whole of the
        ``days`` UTC days in any time zone), clipped at 0. Each local day's opening and
        closing are converted separately, so the result is exact across daylight-saving
        changes. Adjacent intervals are merged.

        Parameters
        ----------
        start : datetime.date
            The scenario start; minute 0 is this date at 00:00 UTC.
        days : int
            Number of days to cover, ``>= 0``.

        Returns
        -------
        numpy.ndarray
            ``(k, 2)`` float64 array of sorted, disjoint ``[open, close)`` intervals.
        """
        if not isinstance(start, datetime.date) or isinstance(start, datetime.datetime):
            raise ValueError(f"start must be a datetime.date, got {start!r}")
        if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 0:
            raise ValueError(f"days must be an integer >= 0, got {days!r}")
        tz = zoneinfo.ZoneInfo(self.timezone)
        origin = datetime.datetime.combine(start, datetime.time(0), tzinfo=_UTC)
        holidays = {datetime.date.fromisoformat(h) for h in self.holidays}
        weekdays = set(self.weekdays)
        opening = datetime.timedelta(hours=self.start_hour)
        closing = datetime.timedelta(hours=self.end_hour)
        rows = []
        for offset in range(-1, int(days) + 1):
            day = start + datetime.timedelta(days=offset)
            if day.weekday() not in weekdays or day in holidays:
                continue
            midnight = datetime.datetime.combine(day, datetime.time(0), tzinfo=tz)
            # Aware datetime + timedelta is wall-clock arithmetic: 9:00 local on that day.
            lo = (midnight + opening - origin).total_seconds() / 60.0
            hi = (midnight + closing - origin).total_seconds() / 60.0
            if hi > 0 and hi > lo:
                rows.append((max(lo, 0.0), hi))
        return merge_intervals(np.array(rows, dtype=np.float64).reshape(-1, 2))


ALWAYS_OPEN = WorkingCalendar(timezone="UTC", weekdays=(0, 1, 2, 3, 4, 5, 6), start_hour=0.0, end_hour=24.0)
"""A calendar that never closes (for textbook M/M/c checks)."""


def merge_intervals(intervals: ArrayLike) -> np.ndarray:
    """Sort intervals, drop empty ones and merge overlapping or touching ones.

    Parameters
    ----------
    intervals : array_like
        ``(k, 2)`` ``[open, close)`` rows, any order, may overlap (the union of several
        calendars, say).

    Returns
    -------
    numpy.ndarray
        ``(m, 2)`` float64 array of sorted, disjoint intervals covering the same minutes.

    Examples
    --------
    >>> merge_intervals([[120.0, 180.0], [0.0, 60.0], [30.0, 90.0], [180.0, 200.0], [300.0, 300.0]])
    array([[  0.,  90.],
           [120., 200.]])
    """
    iv = np.asarray(intervals, dtype=np.float64)
    if iv.ndim != 2 or iv.shape[1] != 2:
        raise ValueError(f"intervals must be a (k, 2) array of [open, close) rows, got shape {iv.shape}")
    iv = iv[iv[:, 1] > iv[:, 0]]
    if len(iv) == 0:
        return np.empty((0, 2), dtype=np.float64)
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    # An interval starts a new run when it opens after every earlier close.
    run_close = np.maximum.accumulate(iv[:, 1])
    new = np.ones(len(iv), dtype=bool)
    new[1:] = iv[1:, 0] > run_close[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(iv)) - 1
    return np.column_stack([iv[starts, 0], run_close[ends]]).astype(np.float64)


def _check_intervals(intervals: ArrayLike, name: str = "intervals") -> np.ndarray:
    iv = np.asarray(intervals, dtype=np.float64)
    if iv.ndim != 2 or iv.shape[1] != 2:
        raise ValueError(f"{name} must be a (k, 2) array of [open, close) rows, got shape {iv.shape}")
    if not np.all(np.isfinite(iv)):
        raise ValueError(f"{name} must be finite")
    if np.any(iv[:, 1] <= iv[:, 0]):
        raise ValueError(f"{name} must have close > open in every row")
    if np.any(iv[1:, 0] < iv[:-1, 1]):
        raise ValueError(f"{name} must be sorted and disjoint")
    return iv


def _cum_before(iv: np.ndarray) -> np.ndarray:
    """Working minutes before each interval opens, plus the total at the end."""
    out = np.zeros(len(iv) + 1)
    np.cumsum(iv[:, 1] - iv[:, 0], out=out[1:])
    return out


def to_working_time(intervals: ArrayLike, t: ArrayLike) -> np.ndarray:
    """Working minutes in ``(-inf, t)``: the map from calendar to working time.

    Examples
    --------
    >>> iv = np.array([[0.0, 60.0], [120.0, 180.0]])
    >>> to_working_time(iv, [30.0, 90.0, 150.0, 500.0])
    array([ 30.,  60.,  90., 120.])
    """
    iv = _check_intervals(intervals)
    t = np.asarray(t, dtype=np.float64)
    if len(iv) == 0:
        return np.zeros_like(t)
    cum = _cum_before(iv)
    i = np.searchsorted(iv[:, 0], t, side="right") - 1
    j = np.maximum(i, 0)
    inside = np.minimum(t - iv[j, 0], iv[j, 1] - iv[j, 0])
    return np.where(i < 0, 0.0, cum[j] + inside)


def from_working_time(intervals: ArrayLike, w: ArrayLike) -> np.ndarray:
    """Calendar instant at which working time ``w`` is reached and work goes on.

    The inverse of :func:`to_working_time` on working instants: for ``w`` in
    ``[0, total)`` it is the unique ``t`` inside an interval with ``W(t) = w`` (a ``w``
    that falls on a close maps to the next opening); ``inf`` when ``w >= total``.

    Examples
    --------
    >>> iv = np.array([[0.0, 60.0], [120.0, 180.0]])
    >>> from_working_time(iv, [0.0, 30.0, 60.0, 90.0, 120.0])
    array([  0.,  30., 120., 150.,  inf])
    """
    iv = _check_intervals(intervals)
    w = np.asarray(w, dtype=np.float64)
    if np.any(np.isnan(w)) or np.any(w < 0):
        raise ValueError("w must be >= 0 working minutes")
    cum = _cum_before(iv)
    i = np.searchsorted(cum[:-1], w, side="right") - 1
    j = np.clip(i, 0, max(len(iv) - 1, 0))
    if len(iv) == 0:
        return np.full_like(w, np.inf)
    return np.where(w >= cum[-1], np.inf, iv[j, 0] + (w - cum[j]))


def working_minutes_between(intervals: ArrayLike, t0: ArrayLike, t1: ArrayLike) -> np.ndarray:
    """Working minutes in ``[t0, t1)`` (0 where ``t1 <= t0``).

    Examples
    --------
    >>> iv = np.array([[0.0, 60.0], [120.0, 180.0]])
    >>> working_minutes_between(iv, 30.0, [45.0, 150.0])
    array([15., 60.])
    """
    return np.maximum(to_working_time(intervals, t1) - to_working_time(intervals, t0), 0.0)


def add_working_minutes(intervals: ArrayLike, t0: ArrayLike, minutes: ArrayLike) -> np.ndarray:
    """Earliest instant at which ``minutes`` working minutes have elapsed since ``t0``.

    With ``minutes == 0`` it is ``t0`` moved to the next open instant (``t0`` itself when
    working, a close counting as not working). A positive amount that ends exactly at a
    close returns that close. ``inf`` when the intervals run out first.

    Examples
    --------
    >>> iv = np.array([[0.0, 60.0], [120.0, 180.0]])
    >>> add_working_minutes(iv, 90.0, [0.0, 30.0, 60.0, 61.0])
    array([120., 150., 180.,  inf])
    >>> add_working_minutes(iv, 30.0, 30.0)
    array(60.)
    """
    iv = _check_intervals(intervals)
    t0 = np.asarray(t0, dtype=np.float64)
    m = np.asarray(minutes, dtype=np.float64)
    if np.any(np.isnan(m)) or np.any(m < 0):
        raise ValueError("minutes must be >= 0")
    t0, m = np.broadcast_arrays(t0, m)
    if len(iv) == 0:
        return np.full(t0.shape, np.inf)
    # minutes == 0: the next open instant.
    k = np.searchsorted(iv[:, 1], t0, side="right")
    kk = np.minimum(k, len(iv) - 1)
    next_open = np.where(k >= len(iv), np.inf, np.maximum(t0, iv[kk, 0]))
    # minutes > 0: the earliest t with W(t) = W(t0) + minutes (a close when it ends on one).
    cum = _cum_before(iv)
    w = to_working_time(iv, t0) + m
    i = np.searchsorted(cum[:-1], w, side="left") - 1
    j = np.maximum(i, 0)
    later = np.where(w > cum[-1], np.inf, iv[j, 0] + (w - cum[j]))
    return np.where(m > 0, later, next_open)


def remove_blocks(intervals: ArrayLike, blocks: ArrayLike) -> np.ndarray:
    """Subtract blocked periods (meetings, leave) from working intervals.

    Parameters
    ----------
    intervals : array_like
        ``(k, 2)`` sorted, disjoint working intervals.
    blocks : array_like
        ``(b, 2)`` blocked ``[start, end)`` periods, any order, may overlap.

    Returns
    -------
    numpy.ndarray
        The working intervals minus the union of the blocks.

    Examples
    --------
    >>> remove_blocks([[0.0, 100.0], [200.0, 300.0]], [[50.0, 220.0], [290.0, 400.0]])
    array([[  0.,  50.],
           [220., 290.]])
    """
    iv = _check_intervals(intervals)
    bl = np.asarray(blocks, dtype=np.float64)
    if bl.size == 0:
        return iv.copy()
    if bl.ndim != 2 or bl.shape[1] != 2:
        raise ValueError(f"blocks must be a (b, 2) array of [start, end) rows, got shape {bl.shape}")
    if np.any(np.isnan(bl)) or np.any(bl[:, 1] < bl[:, 0]):
        raise ValueError("blocks must have end >= start in every row and no nan")
    bl = merge_intervals(bl)
    if len(bl) == 0:
        return iv.copy()
    # Complement of the blocks, then intersect with the intervals (both sorted, disjoint).
    free = np.column_stack([np.concatenate([[-np.inf], bl[:, 1]]), np.concatenate([bl[:, 0], [np.inf]])])
    return _intersect(iv, free)


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection of two sorted, disjoint interval arrays."""
    # For each a-row, the b-rows overlapping it form a contiguous run.
    lo = np.searchsorted(b[:, 1], a[:, 0], side="right")
    hi = np.searchsorted(b[:, 0], a[:, 1], side="left")
    counts = np.maximum(hi - lo, 0)
    ai = np.repeat(np.arange(len(a)), counts)
    bi = np.concatenate([np.arange(s, s + c) for s, c in zip(lo, counts, strict=True)]) if len(a) else []
    bi = np.asarray(bi, dtype=np.int64)
    out = np.column_stack([np.maximum(a[ai, 0], b[bi, 0]), np.minimum(a[ai, 1], b[bi, 1])])
    return out[out[:, 1] > out[:, 0]].reshape(-1, 2)


def split_by_day(intervals: ArrayLike) -> np.ndarray:
    """Cut intervals longer than a day into ``MINUTES_PER_DAY`` pieces from their opening.

    The working days of a calendar: each interval of a weekday calendar is one already; an
    always-open calendar's one long interval becomes one piece per 24 hours.

    Examples
    --------
    >>> split_by_day([[0.0, 60.0], [100.0, 3000.0]])
    array([[   0.,   60.],
           [ 100., 1540.],
           [1540., 2980.],
           [2980., 3000.]])
    """
    iv = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
    length = iv[:, 1] - iv[:, 0]
    pieces = np.maximum(np.ceil(length / MINUTES_PER_DAY), 1).astype(np.int64)
    row = np.repeat(np.arange(len(iv)), pieces)
    k = np.arange(len(row)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    lo = iv[row, 0] + MINUTES_PER_DAY * k
    hi = np.minimum(lo + MINUTES_PER_DAY, iv[row, 1])
    return np.column_stack([lo, hi])


def shrink(
    intervals: ArrayLike,
    share: float,
    *,
    rng: int | np.random.Generator | None = None,
    leave_day_share: float = 0.3,
) -> np.ndarray:
    """Remove random blocks so that about ``share`` of the working time is lost.

    The model works per working day (an interval, cut into 24-hour pieces if longer). With
    ``p = share * leave_day_share`` each day independently is a whole day of leave with
    probability ``p``; every other day loses one meeting block of
    ``m = share * (1 - leave_day_share) / (1 - p)`` of its length, placed uniformly at
    random inside the day. The expected removed share is then ``p + (1 - p) m = share``
    exactly; its standard deviation is ``(1 - m) sqrt(p (1 - p) sum L_i^2) / sum L_i`` for
    day lengths ``L_i``.

    Parameters
    ----------
    intervals : array_like
        ``(k, 2)`` working intervals.
    share : float
        Expected share of working time removed, in ``[0, 1)``.
    rng : int, Generator or None
        Seed or generator.
    leave_day_share : float
        Part of the shrinkage taken as whole days of leave, in ``[0, 1]``.

    Returns
    -------
    numpy.ndarray
        The remaining working intervals.

    Examples
    --------
    >>> import datetime
    >>> iv = WorkingCalendar().intervals(datetime.date(2026, 1, 5), days=365)
    >>> left = shrink(iv, 0.2, rng=1)
    >>> removed = 1 - (left[:, 1] - left[:, 0]).sum() / (iv[:, 1] - iv[:, 0]).sum()
    >>> print(f"{removed:.1f}")
    0.2
    """
    iv = _check_intervals(intervals)
    if not 0 <= share < 1:
        raise ValueError(f"share must be in [0, 1), got {share}")
    if not 0 <= leave_day_share <= 1:
        raise ValueError(f"leave_day_share must be in [0, 1], got {leave_day_share}")
    rng = np.random.default_rng(rng)
    days = split_by_day(iv)
    length = days[:, 1] - days[:, 0]
    p = share * leave_day_share
    m = share * (1 - leave_day_share) / (1 - p)
    leave = rng.random(len(days)) < p
    block = m * length
    begin = days[:, 0] + rng.random(len(days)) * (length - block)
    meetings = np.column_stack([begin, begin + block])[~leave]
    blocks = np.concatenate([days[leave], meetings])
    return remove_blocks(iv, blocks)
