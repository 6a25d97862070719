"""Where the analytic SLA model can be trusted: the domain in which it was checked against the simulation.

:func:`validity` reads the capacity (team calendars, routing, discipline, size, SLA hours and
clock, breach action) and, optionally, the utilisation of each candidate threshold, and says
whether :func:`~calibrate.sla.analytic_load` is inside the domain where
``bench/bench_sla_validity.py`` (first in, first out) and ``bench/bench_priority_load.py``
(score order) measured its SLA compliance within :data:`WITHIN` of the queue engine's.
Outside it the simulation (:func:`~calibrate.sla.simulated_load`) is to be
used for every figure of those thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window

__all__ = [
    "MAX_UTILISATION",
    "MAX_UTILISATION_SCORE_ORDER_SHORT",
    "REPS",
    "SLA_HOURS",
    "WITHIN",
    "Validity",
    "validity",
]

WITHIN = 0.03
"""Largest gap in SLA compliance (share) between the model and the simulation's mean that the
domain below was measured to keep."""

SLA_HOURS = (8.0, 24.0)
"""SLA lengths (hours, either clock) checked within :data:`WITHIN`: 2-hour SLAs were off by up to 0.07."""

REPS = (2, 10)
"""Team sizes checked."""

MAX_UTILISATION = 0.75
"""Highest utilisation checked within :data:`WITHIN` (at 0.9 the model was off by up to 0.034)."""

MAX_UTILISATION_SCORE_ORDER_SHORT = 0.6
"""The same for a queue called in order of score under a calendar-clock SLA shorter than a
day (``bench/bench_priority_load.py``: at 0.75 the model's lower bound on compliance was
up to 0.06 too low; up to 0.6 within 0.021)."""


@dataclass(frozen=True)
class Validity:
    """Whether the analytic SLA model is inside its checked domain, and why not.

    Attributes
    ----------
    trusted : bool
        The settings are inside the domain and so is every utilisation given.
    reasons : tuple of str
        One plain sentence per setting outside the domain (empty when trusted).
    settings_trusted : bool
        The settings alone (team, calendars, SLA) are inside the domain.
    max_utilisation : float
        The highest utilisation inside the domain.
    """

    trusted: bool
    reasons: tuple[str, ...]
    settings_trusted: bool = True
    max_utilisation: float = MAX_UTILISATION

    def trusted_at(self, utilisation: ArrayLike) -> np.ndarray:
        """Per threshold: is the model trusted at this utilisation (share of capacity)?

        Parameters
        ----------
        utilisation : array_like
            Utilisation per threshold (``analytic_load``'s column); nan is not trusted.

        Returns
        -------
        numpy.ndarray
            Booleans of the shape of ``utilisation``.
        """
        u = np.asarray(utilisation, dtype=float)
        with np.errstate(invalid="ignore"):
            return self.settings_trusted & (u <= self.max_utilisation)


def _setting_reasons(capacity: SalesCapacity) -> list[str]:
    team, sla = capacity.team, capacity.sla
    reasons = []
    calendars = team.calendars
    if any(c != calendars[0] for c in calendars):
        reasons.append(
            "a roster of reps on different calendars (time zones) is outside the model's validated range "
            "(one calendar for the whole team)"
        )
    elif calendars[0].end_hour - calendars[0].start_hour >= 24:
        reasons.append(
            "a team calendar open around the clock is outside the model's validated range "
            "(calendars that close each day)"
        )
    if any(r.joins is not None or r.leaves is not None for r in team.roster):
        reasons.append(
            "reps who join or leave the team (Rep.joins, Rep.leaves) are outside the model's validated "
            "range (the same team all year)"
        )
    lo, hi = SLA_HOURS
    if sla.hours < lo:
        reasons.append(
            f"a {sla.hours:g}-hour {sla.clock} SLA is shorter than the model's validated range ({lo:g} to {hi:g} hours)"
        )
    elif sla.hours > hi:
        reasons.append(
            f"a {sla.hours:g}-hour {sla.clock} SLA is longer than the model's validated range ({lo:g} to {hi:g} hours)"
        )
    if not REPS[0] <= team.size <= REPS[1]:
        reasons.append(
            f"a team of {team.size} reps is outside the model's validated range ({REPS[0]} to {REPS[1]} reps)"
        )
    if team.routing in ("least_loaded", "open_hours"):
        reasons.append(f"{team.routing.replace('_', ' ')!r} routing is not modelled (round robin and pooled only)")
    if team.discipline == "newest":
        reasons.append("the 'newest' queue discipline is not modelled (first in, first out, or score order)")
    elif team.discipline == "highest_score" and team.aging_per_hour > 0:
        reasons.append("score order with aging is not modelled (pure score order and first in, first out only)")
    if not team.followups_first and team.attempts > 1:
        reasons.append("follow-ups that do not go before waiting first touches are not modelled")
    if sla.breach == "escalate":
        reasons.append("escalation at the deadline is not modelled (it is treated as no action)")
    return reasons


def validity(capacity: SalesCapacity, window: Window, *, utilisation: ArrayLike | None = None) -> Validity:
    """Is the analytic SLA model inside the domain where it was checked against the simulation?

    The domain (``bench/bench_sla_validity.py``: SLA compliance within :data:`WITHIN` of the
    mean of ten simulated seeds in every cell): one working calendar for the whole team that
    closes each day (weekday 9-17 calendars with holidays), SLAs of :data:`SLA_HOURS`
    hours on the business or the calendar clock, :data:`REPS` reps, round robin or pooled,
    first in first out or in order of score without aging (``bench/bench_priority_load.py``;
    under a calendar-clock SLA shorter than a day up to
    :data:`MAX_UTILISATION_SCORE_ORDER_SHORT`), with follow-ups first, breach action reassign, recycle or none,
    utilisation up to :data:`MAX_UTILISATION`; handoffs with intraday and weekly profiles.

    Parameters
    ----------
    capacity : calibrate.capacity.SalesCapacity
        The team, its calendars and the SLA.
    window : calibrate.capacity.Window
        The history (checked for its type; the domain does not depend on it).
    utilisation : array_like, optional
        Utilisation of the candidate thresholds (``analytic_load``'s column): ``trusted``
        then also needs every one of them inside the domain; per threshold use
        :meth:`Validity.trusted_at`.

    Returns
    -------
    Validity
        ``trusted``, ``reasons`` (one sentence per setting outside the domain, and one for
        the utilisation) and :meth:`~Validity.trusted_at`.

    Examples
    --------
    >>> import dataclasses, datetime
    >>> from calibrate.capacity import SalesCapacity, Window
    >>> cap = SalesCapacity()
    >>> window = Window(start=datetime.date(2026, 1, 1), days=365)
    >>> validity(cap, window).trusted
    True
    >>> short = validity(cap.with_sla_hours(2), window, utilisation=[0.5, 0.9])
    >>> short.trusted, short.reasons[0]
    (False, "a 2-hour business SLA is shorter than the model's validated range (8 to 24 hours)")
    >>> validity(cap, window).trusted_at([0.5, 0.9]).tolist()
    [True, False]
    """
    if not isinstance(capacity, SalesCapacity):
        raise TypeError(f"capacity must be a calibrate.capacity.SalesCapacity, got {capacity!r}")
    if not isinstance(window, Window):
        raise TypeError(f"window must be a calibrate.capacity.Window, got {window!r}")
    reasons = _setting_reasons(capacity)
    settings = not reasons
    top_load = _max_utilisation(capacity)
    if utilisation is not None:
        u = np.asarray(utilisation, dtype=float)
        with np.errstate(invalid="ignore"):
            over = ~(u <= top_load)
        if over.any():
            top = np.nanmax(u) if np.isfinite(u).any() else np.nan
            reasons.append(
                f"{int(over.sum())} of {u.size} thresholds run above the model's validated utilisation "
                f"(up to {top_load:g}; the highest is {top:.2f})"
            )
    return Validity(trusted=not reasons, reasons=tuple(reasons), settings_trusted=settings, max_utilisation=top_load)


def _max_utilisation(capacity: SalesCapacity) -> float:
    sla = capacity.sla
    if capacity.team.discipline == "highest_score" and sla.clock == "calendar" and sla.hours < 24:
        return MAX_UTILISATION_SCORE_ORDER_SHORT
    return MAX_UTILISATION
