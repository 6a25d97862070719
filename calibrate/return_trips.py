"""Return trips from nurture: under which thresholds a recycled lead comes back to sales,
and what its trip back won.

A lead recycled to nurture comes back when, at least some days after its MQL moment, an
event leaves its score at the rule again. Under a higher threshold a lead becomes an MQL
later in its life (when its score first reaches that threshold), so fewer of its events are
left to bring it back: measured on the simulator, 20% of the history's wins among the leads
a threshold of 37 selects (4-hour SLA world) came on a return trip under the rules in force,
while under a threshold of 37 only 1% of those MQLs came back at all. Valuing a threshold on
outcomes that include the history's return trips promised those wins again, and the
recommendation over-claimed by about that much.

So a threshold is valued on first-trip outcomes, and each of the history's return trips
counts under a threshold ``T`` only where it would happen under ``T``: its **ceiling** is the
highest threshold under which the lead's score reaches ``T`` and, at least the nurture
period later, still meets ``T`` after an event:

    ceiling = max over steps b of min(score_b, highest score by at_b - nurture)

(the lead is an MQL of ``T`` by ``at_b - nurture`` iff its highest score by then reaches
``T``). The nurture period is the shortest gap between an MQL moment and its return the
history shows. Return trips the history never made (leads below the rules in force, which
a lower threshold would hand to sales and recycle) cannot be seen, so below the rules in
force the return value is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.labels import _clock_start, _target_reached
from simulate.funnel import NURTURE_REASONS

__all__ = ["ReturnTrips", "return_candidates", "return_ceilings", "shortest_nurture_ns"]


@dataclass(frozen=True, slots=True)
class ReturnTrips:
    """The history's return trips, as the thresholds value them.

    ``index`` the leads (positions in the lead table) that may come back, ``ceiling`` the
    highest threshold each would come back under, ``at`` when (UTC), ``won`` 1 where the
    lead won on its trip back (an outcome of its own, judged), else 0; ``amount`` its
    expected deal amount; ``happened`` the trip is one the history made (the rules in force
    brought the lead back).
    """

    index: np.ndarray
    ceiling: np.ndarray
    won: np.ndarray
    amount: np.ndarray
    at: pd.Series
    happened: np.ndarray


def return_candidates(leads: pd.DataFrame, with_path: bool = True) -> np.ndarray:
    """The leads (positions) that may come back from nurture under some threshold: those
    the history brought back and, with a score path (``with_path``), the MQLs it recycled
    with a nurture reason (``NURTURE_REASONS``)."""
    if "returned_at" not in leads:
        return np.zeros(0, dtype=np.int64)
    candidate = leads["returned_at"].notna().to_numpy().copy()
    if with_path and "mql_at" in leads and "recycled_reason" in leads:
        nurtured = leads["recycled_reason"].isin(NURTURE_REASONS).to_numpy()
        candidate |= nurtured & leads["mql_at"].notna().to_numpy()
    return np.flatnonzero(candidate)


def shortest_nurture_ns(mql_at: pd.Series, returned_at: pd.Series) -> int:
    """The shortest gap (nanoseconds) between an MQL moment and the lead's return (0 where
    the history shows no return)."""
    gap = (returned_at - mql_at).dropna()
    gap = gap[gap >= pd.Timedelta(0)]
    return int(gap.min().value) if len(gap) else 0


def return_ceilings(
    row: np.ndarray, at_ns: np.ndarray, points: np.ndarray, n: int, nurture_ns: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's return ceiling (see the module docstring) from its score path.

    Parameters
    ----------
    row, at_ns, points : the score after each event (and at creation), in lead then time
        order (``calibrate.point_in_time.ScorePath``).
    n : the number of leads.
    nurture_ns : the nurture period in nanoseconds.

    Returns
    -------
    ceiling : (n,) ``-inf`` for a lead that could come back under no threshold.
    moment : (n,) the first step at which it would come back under its ceiling (UTC
        nanoseconds as ``datetime64[ns]``; NaT where none).
    """
    row = np.asarray(row, dtype=np.int64)
    at = np.asarray(at_ns, dtype=np.int64)
    points = np.asarray(points, dtype=float)
    out = np.full(n, -np.inf)
    moment = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    if row.size == 0:
        return out, moment
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    first_of_step = np.repeat(starts, np.diff(np.r_[starts, row.size]))
    # the highest score so far, within each lead
    span = float(np.ptp(points)) + 1.0
    lifted = points + row * span
    highest = np.maximum.accumulate(lifted) - row * span
    # for every step, the last step of the same lead at least the nurture period earlier
    # (one search on lead + minutes: exact to well under a minute up to millions of leads)
    minutes = (at - at.min()) / 6e10
    order_key = row * (float(minutes.max()) + 1.0 + nurture_ns / 6e10) + minutes
    if np.any(np.diff(order_key) < 0):
        raise ValueError("the score path must be in lead and time order")
    earlier = np.searchsorted(order_key, order_key - nurture_ns / 6e10, side="right") - 1
    reached = np.where(earlier >= first_of_step, highest[np.maximum(earlier, 0)], -np.inf)
    best = np.minimum(points, reached)
    ceiling = np.maximum.reduceat(best, starts)
    out[row[starts]] = ceiling
    # the first step of each lead at its ceiling
    at_ceiling = np.flatnonzero(np.isfinite(best) & (best >= np.repeat(ceiling, np.diff(np.r_[starts, row.size]))))
    first = at_ceiling[np.r_[True, row[at_ceiling][1:] != row[at_ceiling][:-1]]] if at_ceiling.size else at_ceiling
    moment[row[first]] = at[first].astype("datetime64[ns]")
    return out, moment


def reached_on_return(leads: pd.DataFrame, target: str = "won") -> np.ndarray:
    """Per lead: it reached the target (won, or SQL) on a trip back from nurture (its return
    came before the target's moment; an undated target counts as the first trip's)."""
    if "returned_at" not in leads:
        return np.zeros(len(leads), dtype=bool)
    won_true = _clock_start(leads)[3]
    event_at, reached = _target_reached(leads, target, won_true)
    back = pd.to_datetime(leads["returned_at"], utc=True)
    return reached & (back <= event_at).to_numpy(dtype=bool, na_value=False)


def history_return_trips(
    leads: pd.DataFrame,
    path,
    points: np.ndarray,
    amount: np.ndarray,
    outcome: np.ndarray | None,
    target: str,
) -> ReturnTrips | None:
    """The history's trips back from nurture, as the thresholds would make them (``None``
    where it records no return).

    Two kinds of lead may come back under a threshold: those that came back in the history,
    and, with a score path, those the history recycled to nurture (``NURTURE_REASONS``)
    that the rules in force did not bring back; under another threshold their score may
    meet the rule again after the nurture period (measured on the simulator: a third of the
    returns under a lower threshold were such leads). The first come back at their return,
    the others at the event that brings them back under their ceiling.

    ``path`` the score path up to the as-of date of every ``return_candidates`` lead
    (``ScorePath``; ``None`` without events:
    each return's ceiling is then its lead's score, and only the history's returns count);
    ``points`` every lead's score; ``outcome`` each judged lead's own outcome (nan for the
    others; ``None``: the trips are valued nothing, as where the chances hold their value).
    The trips back of leads the history did not bring back are valued nothing either: what
    they would win was never seen.
    """
    if "returned_at" not in leads:
        return None
    returned_at = pd.to_datetime(leads["returned_at"], utc=True)
    back = returned_at.notna().to_numpy()
    if not back.any():
        return None
    index = return_candidates(leads, with_path=path is not None)
    ceiling = np.asarray(points, dtype=float)[index]
    at = returned_at.iloc[index].reset_index(drop=True)
    if path is not None and "mql_at" in leads:
        nurture = shortest_nurture_ns(pd.to_datetime(leads["mql_at"], utc=True), returned_at)
        on = np.isin(path.row, index)
        row, at_ns, steps = path.row[on], path.at_ns[on], path.points[on]
        ceilings, moments = return_ceilings(row, at_ns, steps, path.n, nurture)
        # the path runs to the as-of date, beyond the score followed to a first touch
        ceiling = ceilings[index]
        never = at.isna().to_numpy()
        at[never] = pd.to_datetime(moments[index[never]], utc=True)
    won = np.zeros(index.size)
    if outcome is not None:
        judged_won = np.nan_to_num(np.asarray(outcome, dtype=float)[index]) == 1
        won = (judged_won & back[index] & reached_on_return(leads.iloc[index], target)).astype(float)
    keep = at.notna().to_numpy()
    return ReturnTrips(
        index=index[keep],
        ceiling=ceiling[keep],
        won=won[keep],
        amount=np.asarray(amount, dtype=float)[index[keep]],
        at=at[keep].reset_index(drop=True),
        happened=back[index[keep]],
    )
