"""The sales team that works MQLs, and the SLA it promised marketing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from simulate.bounds import check_numbers, check_reps
from simulate.calendar import WorkingCalendar, add_working_minutes, shrink, working_minutes_between
from simulate.spec import check, check_probability

US_HOLIDAYS_2026 = (
    "2026-01-01",
    "2026-01-19",
    "2026-05-25",
    "2026-07-03",
    "2026-09-07",
    "2026-11-26",
    "2026-11-27",
    "2026-12-24",
    "2026-12-25",
    "2026-12-31",
)

ROUTINGS = ("round_robin", "pooled", "least_loaded", "open_hours")
DISCIPLINES = ("fifo", "highest_score", "newest")
BREACH_ACTIONS = ("none", "reassign", "escalate", "recycle")
SLA_CLOCKS = ("business", "calendar")


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration:
    """Minutes a task takes: log-normal, ``median_minutes * exp(spread * e)``, e ~ N(0, 1)."""

    median_minutes: float
    spread: float = 0.5

    def __post_init__(self) -> None:
        check(self.median_minutes > 0, f"Duration.median_minutes must be > 0, got {self.median_minutes}")
        check(self.spread >= 0, f"Duration.spread must be >= 0, got {self.spread}")
        check_numbers(self)

    @property
    def mean_minutes(self) -> float:
        """The mean of the log-normal: ``median_minutes * exp(spread**2 / 2)``."""
        return self.median_minutes * float(np.exp(self.spread**2 / 2))

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` durations in minutes from ``rng``."""
        return self.median_minutes * np.exp(self.spread * rng.standard_normal(n))

    def quantile(self, u: np.ndarray) -> np.ndarray:
        """Minutes at probability ``u`` (uniforms in, draws out)."""
        return self.median_minutes * np.exp(self.spread * ndtri(u))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rep:
    """One named rep with his own working calendar (for mixed time zones or part-timers).

    ``joins`` and ``leaves`` (ISO dates, local days of the rep's calendar) bound the days he
    is on the team: from ``joins`` 00:00 to ``leaves`` 00:00, ``None`` for no bound. Off the
    team he has no working hours and routing passes him over (round robin turns among the
    reps on the team at the handoff, as a CRM rotation without him). Leads still waiting in
    his own queue when he leaves stay there until the SLA's breach action moves them
    (``SLA.breach="reassign"``, the default) or forever with ``"none"``.
    """

    name: str
    calendar: WorkingCalendar = WorkingCalendar()
    joins: str | None = None
    leaves: str | None = None

    def __post_init__(self) -> None:
        for field in ("joins", "leaves"):
            value = getattr(self, field)
            if value is None:
                continue
            try:
                dt.date.fromisoformat(str(value))
            except ValueError:
                raise ValueError(
                    f"Rep {self.name!r}: {field} must be an ISO date (YYYY-MM-DD), got {value!r}"
                ) from None
        if self.joins is not None and self.leaves is not None:
            check(
                dt.date.fromisoformat(self.joins) < dt.date.fromisoformat(self.leaves),
                f"Rep {self.name!r}: joins ({self.joins}) must be before leaves ({self.leaves})",
            )

    def on_team_minutes(self, start: dt.date) -> tuple[float, float]:
        """``[from, to)`` of his days on the team, in minutes since ``start`` 00:00 UTC."""
        tz = zoneinfo.ZoneInfo(self.calendar.timezone)
        origin = dt.datetime.combine(start, dt.time(0), tzinfo=dt.UTC)

        def minutes(day: str | None, unbounded: float) -> float:
            if day is None:
                return unbounded
            local = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(0), tzinfo=tz)
            return (local - origin).total_seconds() / 60.0

        return minutes(self.joins, -np.inf), minutes(self.leaves, np.inf)


@dataclass(frozen=True, slots=True, kw_only=True)
class Team:
    """The reps who make first touches, how they take leads, and what their work costs.

    ``reps`` reps share ``calendar`` unless ``roster`` names each rep with his own calendar.
    Shrinkage removes that share of working time at random (whole days of leave and
    meeting blocks, see ``simulate.calendar.shrink``). A worked lead gets up to ``attempts``
    contact attempts: the first touch, then follow-ups ``cadence_days`` after it (calendar
    days; the default spreads six attempts over ten business days). ``routing`` and
    ``discipline`` are the queue policy (see ``simulate.serve_queue``): who gets a new MQL
    (round robin, a pooled queue, the rep with the fewest open MQLs, a rep whose hours are
    open) and in which order each queue is called; ``aging_per_hour`` is the score points a
    waiting lead gains per hour under ``discipline="highest_score"``.
    """

    reps: int = 4
    roster: tuple[Rep, ...] = ()
    calendar: WorkingCalendar = WorkingCalendar(holidays=US_HOLIDAYS_2026)
    shrinkage: float = 0.25
    leave_day_share: float = 0.3
    first_touch: Duration = Duration(median_minutes=15.0, spread=0.5)
    follow_up: Duration = Duration(median_minutes=5.0, spread=0.4)
    attempts: int = 6
    cadence_days: tuple[float, ...] = (0.2, 1.0, 3.0, 7.0, 13.0)
    routing: str = "round_robin"
    discipline: str = "fifo"
    aging_per_hour: float = 0.0
    followups_first: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.reps, bool) or not isinstance(self.reps, int | np.integer):
            raise TypeError(f"Team.reps must be a whole number of reps, got {self.reps!r} (for example Team(reps=6))")
        if not isinstance(self.calendar, WorkingCalendar):
            raise TypeError(f"Team.calendar must be a simulate.WorkingCalendar, got {self.calendar!r}")
        check(self.reps >= 1, f"Team.reps must be >= 1, got {self.reps}")
        check_reps("Team.reps", self.size)
        if self.roster:
            names = [r.name for r in self.roster]
            check(len(set(names)) == len(names), "Team.roster names must be unique")
        check(0 <= self.shrinkage < 1, f"Team.shrinkage must be in [0, 1), got {self.shrinkage}")
        check_probability("Team.leave_day_share", self.leave_day_share)
        check(self.attempts >= 1, f"Team.attempts must be >= 1, got {self.attempts}")
        check(
            len(self.cadence_days) >= self.attempts - 1,
            f"Team.cadence_days must give a day for each of the {self.attempts - 1} follow-ups, "
            f"got {len(self.cadence_days)}",
        )
        days = self.cadence_days[: self.attempts - 1]
        check(
            all(a < b for a, b in zip((0.0, *days), days)),
            f"Team.cadence_days must be increasing and > 0, got {self.cadence_days}",
        )
        check(self.routing in ROUTINGS, f"Team.routing must be one of {ROUTINGS}, got {self.routing!r}")
        check(
            self.discipline in DISCIPLINES,
            f"Team.discipline must be one of {DISCIPLINES}, got {self.discipline!r}",
        )
        check(
            self.aging_per_hour >= 0 and (self.aging_per_hour == 0 or self.discipline == "highest_score"),
            f"Team.aging_per_hour (score points a waiting lead gains per hour) must be >= 0 and applies to "
            f"discipline='highest_score' only, got {self.aging_per_hour} with {self.discipline!r}",
        )
        check_numbers(self)

    @property
    def size(self) -> int:
        """Number of reps (of the roster, when there is one)."""
        return len(self.roster) if self.roster else self.reps

    @property
    def rep_names(self) -> tuple[str, ...]:
        """Each rep's name (``rep_01``, ... without a roster)."""
        if self.roster:
            return tuple(r.name for r in self.roster)
        return tuple(f"rep_{i + 1:02d}" for i in range(self.reps))

    @property
    def calendars(self) -> tuple[WorkingCalendar, ...]:
        """Each rep's working calendar, in roster order."""
        if self.roster:
            return tuple(r.calendar for r in self.roster)
        return (self.calendar,) * self.reps

    @property
    def attempt_gap_minutes(self) -> np.ndarray:
        """Calendar minutes from each attempt to the next."""
        days = np.asarray((0.0, *self.cadence_days[: self.attempts - 1]))
        return np.diff(days) * 1440.0

    def with_size(self, size: int) -> Team:
        """The same team with ``size`` reps: same calendars, shrinkage, work and routing.

        A roster is cut to its first ``size`` reps, or repeated in order to grow (copies are
        named ``name~1``, ``name~2``, ...), so a team across time zones keeps its mix. The
        first reps keep their names, so with the same seed they keep their calendars.

        Examples
        --------
        >>> team = Team(roster=(Rep(name="ny"), Rep(name="berlin")))
        >>> team.with_size(3).rep_names
        ('ny', 'berlin', 'ny~1')
        """
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"a team needs at least one rep, got size {size!r}")
        size = int(size)
        check_reps("a team's size", size)
        if not self.roster:
            return dataclasses.replace(self, reps=size)
        n = len(self.roster)
        roster = list(self.roster[:size])
        taken = {r.name for r in roster}
        for i in range(n, size):  # a copy's name is new even if the roster was grown before
            k, source = i // n, self.roster[i % n]
            while f"{source.name}~{k}" in taken:
                k += 1
            taken.add(f"{source.name}~{k}")
            roster.append(dataclasses.replace(source, name=f"{source.name}~{k}"))
        return dataclasses.replace(self, roster=tuple(roster), reps=size)

    def working_intervals(self, start: dt.date, days: int, *, rng) -> list[np.ndarray]:
        """Each rep's working intervals over ``days`` days, after shrinkage."""
        rng = np.random.default_rng(rng)
        out = []
        for calendar, child in zip(self.calendars, rng.spawn(self.size)):
            intervals = calendar.intervals(start, days)
            if self.shrinkage > 0:
                intervals = shrink(intervals, self.shrinkage, rng=child, leave_day_share=self.leave_day_share)
            out.append(intervals)
        return self._on_team_only(out, start)

    def calendar_intervals(self, start: dt.date, days: int) -> list[np.ndarray]:
        """Each rep's calendar hours over ``days`` days while on the team, before shrinkage."""
        return self._on_team_only([c.intervals(start, days) for c in self.calendars], start)

    def _on_team_only(self, intervals: list[np.ndarray], start: dt.date) -> list[np.ndarray]:
        on_team = self.on_team_minutes(start)
        if on_team is None:
            return intervals
        return [_clip(iv, lo, hi) for iv, (lo, hi) in zip(intervals, on_team)]

    def on_team_minutes(self, start: dt.date) -> np.ndarray | None:
        """Each rep's ``[from, to)`` on the team (``Rep.joins``, ``Rep.leaves``) in minutes
        since ``start`` 00:00 UTC, ``(size, 2)``; ``None`` when every rep is always on it."""
        if not any(r.joins is not None or r.leaves is not None for r in self.roster):
            return None
        return np.array([r.on_team_minutes(start) for r in self.roster], dtype=float)


def _clip(intervals: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Working ``[open, close)`` intervals cut to ``[lo, hi)``."""
    out = np.column_stack([np.maximum(intervals[:, 0], lo), np.minimum(intervals[:, 1], hi)])
    return out[out[:, 1] > out[:, 0]].reshape(-1, 2)


@dataclass(frozen=True, slots=True, kw_only=True)
class SLA:
    """Sales' promise: a first touch within ``hours`` for ``target`` of MQLs.

    ``clock="business"`` counts only the hours of ``calendar`` (a lead handed off on Friday
    evening is due on Monday), ``"calendar"`` counts every hour. At a breach the lead can be
    reassigned to the rep who can take it first, escalated to the front of its queue,
    recycled to marketing untouched, or left where it is (``"none"``).
    """

    hours: float = 8.0
    clock: str = "business"
    target: float = 0.9
    breach: str = "reassign"
    calendar: WorkingCalendar = WorkingCalendar(holidays=US_HOLIDAYS_2026)

    def __post_init__(self) -> None:
        for name in ("hours", "target"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise TypeError(f"SLA.{name} must be a number, got {value!r} (for example SLA(hours=24, target=0.9))")
        if not isinstance(self.calendar, WorkingCalendar):
            raise TypeError(f"SLA.calendar must be a simulate.WorkingCalendar, got {self.calendar!r}")
        check(self.hours > 0, f"SLA.hours must be > 0, got {self.hours}")
        check(self.clock in SLA_CLOCKS, f"SLA.clock must be one of {SLA_CLOCKS}, got {self.clock!r}")
        check_probability("SLA.target", self.target)
        check(
            self.breach in BREACH_ACTIONS,
            f"SLA.breach must be one of {BREACH_ACTIONS}, got {self.breach!r}",
        )
        check_numbers(self)

    def deadlines(self, handoff_min: np.ndarray, start: dt.date, days: int) -> np.ndarray:
        """The time (minutes) by which each lead handed off at ``handoff_min`` is due."""
        handoff_min = np.asarray(handoff_min, dtype=float)
        if self.clock == "calendar":
            return handoff_min + self.hours * 60.0
        intervals = self.calendar.intervals(start, days)
        return add_working_minutes(intervals, handoff_min, np.full(handoff_min.shape, self.hours * 60.0))

    def hours_elapsed(self, handoff_min: np.ndarray, touch_min: np.ndarray, start: dt.date, days: int) -> np.ndarray:
        """SLA-clock hours from handoff to first touch (nan where not touched)."""
        handoff_min = np.asarray(handoff_min, dtype=float)
        touch_min = np.asarray(touch_min, dtype=float)
        if self.clock == "calendar":
            return (touch_min - handoff_min) / 60.0
        ok = np.isfinite(touch_min)
        out = np.full(handoff_min.shape, np.nan)
        intervals = self.calendar.intervals(start, days)
        out[ok] = working_minutes_between(intervals, handoff_min[ok], touch_min[ok]) / 60.0
        return out
