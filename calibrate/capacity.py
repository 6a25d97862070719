"""The sales side's capacity and the time window: the two objects every SLA figure needs.

``SalesCapacity`` says who answers the MQLs and how (the team), what they promised (the SLA),
how fast a lead's interest fades while it waits (the funnel's response decay) and how
reachable the leads are (contact rate, bad contact data). ``Window`` says which stretch of
calendar time the figures are for (the MQL window; the outcome window is
``HORIZON_DAYS``). Both are frozen: vary them with ``replace``, ``with_reps`` or
``with_sla_hours``. Every default lives here, once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simulate.calendar import DAYS_PER_MONTH, MINUTES_PER_DAY
from simulate.funnel import Funnel
from simulate.queue import QUEUE_PAD_DAYS
from simulate.team import SLA, Team

__all__ = ["SLA_CONFIDENCE", "BAD_DATA_SHARE", "CONTACT_RATE", "HORIZON_DAYS", "SalesCapacity", "Window"]

CONTACT_RATE = 0.68
"""Share of MQLs with good data that answer at some attempt (about what the default world shows)."""

BAD_DATA_SHARE = 0.04
"""Share of MQLs whose phone or e-mail is wrong (shows at the first attempt)."""

HORIZON_DAYS = 120.0
"""The outcome window: a lead counts as won when it won within this many days of its MQL
moment (labels, wins in the trade-offs and in the verification alike). The MQL window, the
stretch of time whose MQLs are counted, is a ``Window``."""

SLA_CONFIDENCE = 0.9
"""The default chance that a new year meets the SLA target at the recommended threshold: a
threshold whose expected compliance is right at the target misses it every other year."""


def _share(value, name: str) -> float | np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.ndim > 1 or np.isnan(a).any() or (a < 0).any() or (a > 1).any():
        raise ValueError(f"SalesCapacity.{name} must be a share in [0, 1] (one, or one per lead), got {value!r}")
    return float(a) if a.ndim == 0 else a


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SalesCapacity:
    """The sales team, its SLA, the response decay and how reachable the MQLs are.

    Parameters
    ----------
    team : simulate.Team
        The reps, their calendars, routing, discipline and work per touch.
    sla : simulate.SLA
        The promise: a first touch within ``hours`` for ``target`` of MQLs.
    funnel : simulate.Funnel
        The response-time decay of connecting and qualifying (``connect_decay``,
        ``qualify_decay``) and the cadence's answer rate (``attempt_connect_share``).
    contact_rate : float or array_like
        Chance that a lead with good data answers at some attempt (one share, or one per
        lead aligned with the scores it is used with).
    bad_data_share : float or array_like
        Chance of bad contact data (one share, or one per lead).

    Examples
    --------
    >>> cap = SalesCapacity()
    >>> cap.team.size, cap.sla.hours, cap.contact_rate
    (4, 8.0, 0.68)
    >>> cap.with_reps(6).team.size, cap.with_sla_hours(4).sla.hours
    (6, 4.0)
    """

    team: Team = field(default_factory=Team)
    sla: SLA = field(default_factory=SLA)
    funnel: Funnel = field(default_factory=Funnel)
    contact_rate: float | np.ndarray = CONTACT_RATE
    bad_data_share: float | np.ndarray = BAD_DATA_SHARE

    def __post_init__(self) -> None:
        how = {
            "team": "simulate.Team(reps=6), or SalesCapacity().with_reps(6)",
            "sla": "simulate.SLA(hours=24, target=0.9), or SalesCapacity().with_sla_hours(24)",
            "funnel": "simulate.Funnel()",
        }
        for name, kind in (("team", Team), ("sla", SLA), ("funnel", Funnel)):
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise TypeError(
                    f"SalesCapacity.{name} must be a simulate.{kind.__name__}, got {value!r}; "
                    f"build one with {how[name]}"
                )
        object.__setattr__(self, "contact_rate", _share(self.contact_rate, "contact_rate"))
        object.__setattr__(self, "bad_data_share", _share(self.bad_data_share, "bad_data_share"))

    def replace(self, **changes) -> SalesCapacity:
        """A copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)

    def with_reps(self, reps: int) -> SalesCapacity:
        """The same capacity with ``reps`` reps (see ``simulate.Team.with_size``)."""
        if isinstance(reps, bool) or not isinstance(reps, int | np.integer):
            raise TypeError(f"SalesCapacity.with_reps: reps must be a whole number of reps, got {reps!r}")
        return self.replace(team=self.team.with_size(reps))

    def with_sla_hours(self, hours: float) -> SalesCapacity:
        """The same capacity with an SLA of ``hours`` (same clock, target and breach action)."""
        if isinstance(hours, bool) or not isinstance(hours, int | float | np.number):
            raise TypeError(f"SalesCapacity.with_sla_hours: hours must be a number of hours, got {hours!r}")
        return self.replace(sla=dataclasses.replace(self.sla, hours=float(hours)))

    @classmethod
    def from_scenario(cls, scenario, **changes) -> SalesCapacity:
        """The team, SLA and funnel of a ``simulate.Scenario`` (contact shares as given)."""
        return cls(team=scenario.team, sla=scenario.sla, funnel=scenario.funnel, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The stretch of calendar time the figures are for.

    Minute 0 is ``start`` 00:00 UTC; the history covers ``days`` days, and queues are run
    ``pad_days`` past its end so that the MQLs of its last days still get their touch.

    Examples
    --------
    >>> w = Window(start=dt.date(2026, 1, 1), days=365)
    >>> round(w.months, 2), w.queue_days
    (11.99, 410)
    """

    start: dt.date
    days: int
    pad_days: int = QUEUE_PAD_DAYS

    def __post_init__(self) -> None:
        if isinstance(self.start, dt.datetime) or not isinstance(self.start, dt.date):
            raise TypeError(f"Window.start must be a datetime.date, got {self.start!r}")
        if isinstance(self.days, bool) or not isinstance(self.days, int | np.integer) or self.days < 1:
            raise ValueError(f"Window.days must be an integer >= 1, got {self.days!r}")
        if isinstance(self.pad_days, bool) or not isinstance(self.pad_days, int | np.integer) or self.pad_days < 0:
            raise ValueError(f"Window.pad_days must be an integer >= 0, got {self.pad_days!r}")
        object.__setattr__(self, "days", int(self.days))
        object.__setattr__(self, "pad_days", int(self.pad_days))

    @property
    def months(self) -> float:
        """Length of the history in months of ``DAYS_PER_MONTH`` days."""
        return self.days / DAYS_PER_MONTH

    @property
    def queue_days(self) -> int:
        """Days over which queues are run: the history plus the padding."""
        return self.days + self.pad_days

    @property
    def end_minutes(self) -> float:
        """The end of the history, in minutes since ``start``."""
        return self.days * MINUTES_PER_DAY

    @classmethod
    def spanning(cls, first: pd.Timestamp, last: pd.Timestamp, **changes) -> Window:
        """The window from the UTC day of ``first`` to ``last`` (whole days, at least one)."""
        start = pd.Timestamp(first).tz_convert("UTC").normalize()
        days = max(1, math.ceil((pd.Timestamp(last).tz_convert("UTC") - start).total_seconds() / 86400.0))
        return cls(start=start.date(), days=days, **changes)

    def minutes(self, times: ArrayLike) -> np.ndarray:
        """Minutes since ``start`` of timestamps (a Series or an index); nan where missing."""
        origin = pd.Timestamp(self.start, tz="UTC")
        return ((pd.Series(times) - origin).dt.total_seconds() / 60.0).to_numpy(dtype=float)
