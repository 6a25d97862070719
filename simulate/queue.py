"""The queue of MQLs waiting for a first touch, as a plain function on arrays.

:func:`serve_queue` takes handoff times, work per lead and each rep's working intervals (from
:mod:`simulate.calendar`) and returns when each lead was first touched and by whom. The
simulation itself runs in a compiled kernel (:mod:`simulate._queue_kernel`); this module
validates and prepares the arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from simulate import _queue_kernel as _k
from simulate.calendar import _check_intervals
from simulate.team import DISCIPLINES, ROUTINGS

__all__ = ["QUEUE_PAD_DAYS", "QueueResult", "serve_queue"]

QUEUE_PAD_DAYS = 45
"""Queues are run this many days past the end of a history, so its last MQLs get their touch."""
BREACHES = {"none": 0, "escalate": _k.ESCALATE, "reassign": _k.REASSIGN, "recycle": _k.RECYCLE}
ASSIGN = {"round_robin": _k.ROUND_ROBIN, "least_loaded": _k.LEAST_LOADED, "open_hours": _k.OPEN_HOURS}
"""Owner-at-handoff rule of each routing where every rep serves his own queue."""


@dataclass(frozen=True, slots=True)
class QueueResult:
    """What the queue did with each lead (arrays in input order).

    Attributes
    ----------
    first_touch_at : numpy.ndarray
        ``(n,)`` start of the first touch in minutes, nan if never touched.
    rep : numpy.ndarray
        ``(n,)`` int64 rep who made the first touch; for untouched leads the owner under
        round robin, -1 in a pooled queue.
    breached : numpy.ndarray
        ``(n,)`` bool, the lead was still waiting when its deadline passed, or was never
        touched.
    recycled : numpy.ndarray
        ``(n,)`` bool, removed untouched at its deadline (``breach="recycle"``).
    reassigned : numpy.ndarray
        ``(n,)`` bool, moved to another rep at its deadline (``breach="reassign"``).
    attempt_lead, attempt_at : numpy.ndarray
        ``(m,)`` lead index and start time of every follow-up attempt made (attempt 2, 3,
        ...), sorted by time, then lead.
    busy_minutes : numpy.ndarray
        ``(reps,)`` working minutes each rep spent on first touches and follow-ups.
    """

    first_touch_at: np.ndarray
    rep: np.ndarray
    breached: np.ndarray
    recycled: np.ndarray
    reassigned: np.ndarray
    attempt_lead: np.ndarray
    attempt_at: np.ndarray
    busy_minutes: np.ndarray


def _float_array(x: ArrayLike, name: str, n: int | None, *, allow_inf: bool = False) -> np.ndarray:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have the length of handoff_at ({n}), got {a.shape[0]}")
    if not np.isfinite(a).all():  # one pass in the common case, details on failure
        if np.isnan(a).any():
            raise ValueError(f"{name} must not contain nan")
        if not allow_inf:
            raise ValueError(f"{name} must be finite")
    return a


def serve_queue(
    handoff_at: ArrayLike,
    work_minutes: ArrayLike,
    *,
    rep_intervals: Sequence[ArrayLike],
    routing: str = "round_robin",
    discipline: str = "fifo",
    score: ArrayLike | None = None,
    aging: float = 0.0,
    deadline_at: ArrayLike | None = None,
    breach: str = "none",
    attempts: ArrayLike | None = None,
    attempt_gap_minutes: ArrayLike | None = None,
    attempt_minutes: float | ArrayLike | None = None,
    followups_first: bool = True,
    rep_on_team: ArrayLike | None = None,
) -> QueueResult:
    """Serve MQLs by a team of reps, each working only in his own calendar.

    Parameters
    ----------
    handoff_at : array_like
        ``(n,)`` handoff times in minutes since the scenario start, any order. Leads are
        ranked by handoff time, ties by input index; results come back in input order.
    work_minutes : array_like
        ``(n,)`` working minutes of each first touch, > 0.
    rep_intervals : sequence of array_like
        One ``(k, 2)`` array of working ``[open, close)`` intervals per rep. A rep starts
        work only inside his intervals; a job pauses at a close and resumes at the next
        opening. A lead not started before the last close stays untouched (nan).
    routing : {"round_robin", "pooled", "least_loaded", "open_hours"}
        ``"round_robin"``: the lead of rank ``k`` goes to rep ``k mod reps`` at handoff, as
        CRMs do, and each rep serves his own queue. ``"pooled"``: one queue; whenever a rep
        is free and working he takes the next lead; when several reps could start at the
        same instant the lowest index goes first. ``"least_loaded"``: at handoff the lead
        goes to the rep with the fewest open MQLs (assigned and not yet touched).
        ``"open_hours"`` (time-zone routing): to a rep whose working hours are open at the
        handoff (else to those whose hours open next), the one with the fewest open MQLs
        among them. In both, ties go to the next rep in rotation, and each rep serves his
        own queue.
    discipline : {"fifo", "highest_score", "newest"}
        Order of waiting leads: earliest handoff first; largest ``score`` first (ties by
        handoff; with ``aging``, largest ``score + aging * hours waited``); latest handoff
        first (LIFO).
    score : array_like, optional
        ``(n,)`` lead scores, required for ``"highest_score"``.
    aging : float
        With ``"highest_score"``: score points a waiting lead gains per calendar hour it has
        waited, so low scores are not starved (0: pure score order). Every waiting lead
        ages alike, so the order is that of ``score - aging * handoff hours``.
    deadline_at : array_like, optional
        ``(n,)`` time by which the first touch should start (inf for none). A lead still
        waiting once every start possible at its deadline has been made is breached. A
        deadline before the handoff is already past when the lead arrives: the lead is
        breached whenever it starts, and the breach action applies at its handoff (after
        the starts possible at that instant), on both paths alike.
    breach : {"none", "escalate", "reassign", "recycle"}
        What happens at a breach. ``"escalate"``: the lead moves ahead of every
        non-escalated lead in its queue (first escalated, first served).
        ``"reassign"`` (reps' own queues only; in a pooled queue it is ``"none"``): the lead
        moves to the rep whose backlog ends earliest (his current job plus the first
        touches waiting in his queue, in his working time; the owner keeps it on a tie,
        else the lowest index) and keeps its place by the discipline there.
        ``"recycle"``: the lead leaves the queue untouched.
    attempts : array_like of int, optional
        ``(n,)`` total contact attempts per lead, >= 1 (default 1: the first touch only).
    attempt_gap_minutes : array_like, optional
        Attempt ``j + 1`` falls due ``attempt_gap_minutes[j - 1]`` calendar minutes after
        attempt ``j`` started; length at least ``max(attempts) - 1``.
    attempt_minutes : float or array_like, optional
        Working minutes of a follow-up attempt, scalar or ``(n,)``, > 0. Required when any
        lead has more than one attempt.
    followups_first : bool
        A rep makes follow-ups that are due before new first touches (else only when no
        first touch waits). Follow-ups are made by the rep of the first touch, ordered by
        due time, and count in ``busy_minutes``.
    rep_on_team : array_like, optional
        ``(reps, 2)`` minutes ``[from, to)`` each rep is on the team (``Team.on_team_minutes``;
        give his ``rep_intervals`` cut to it as well). Routing at a handoff considers only
        the reps on the team then (round robin takes the next of them in turn), unless
        nobody is. Default: everyone always.

    Returns
    -------
    QueueResult

    Notes
    -----
    Events at one instant happen in this order: handoffs, then starts (lowest rep index
    first), then deadlines (by deadline, then rank). Round robin and pooled FIFO without
    follow-ups or breach actions run a one-pass recursion over free times in working time;
    everything else runs an event-driven simulation. Both give identical results.

    Examples
    --------
    >>> import numpy as np
    >>> open_9_to_17 = np.array([[540.0, 1020.0], [1980.0, 2460.0]])  # two days
    >>> res = serve_queue([1000.0, 1001.0, 1002.0], [30.0, 30.0, 30.0],
    ...                   rep_intervals=[open_9_to_17, open_9_to_17], routing="pooled")
    >>> res.first_touch_at  # rep 0 finishes his first call at 9:10 the next morning
    array([1000., 1001., 1990.])
    >>> res.rep
    array([0, 1, 0])
    """
    handoff = _float_array(handoff_at, "handoff_at", None)
    n = handoff.shape[0]
    if n and handoff.min() < 0:
        raise ValueError("handoff_at must be >= 0 (minutes since the scenario start)")
    work = _float_array(work_minutes, "work_minutes", n)
    if n and work.min() <= 0:
        raise ValueError("work_minutes must be > 0")
    if isinstance(rep_intervals, np.ndarray) and rep_intervals.ndim == 2:
        raise ValueError("rep_intervals must be a sequence of (k, 2) arrays, one per rep")
    calendars = [_check_intervals(iv, f"rep_intervals[{r}]") for r, iv in enumerate(rep_intervals)]
    reps = len(calendars)
    if reps < 1:
        raise ValueError("rep_intervals must hold at least one rep")
    if routing not in ROUTINGS:
        raise ValueError(f"routing must be one of {ROUTINGS}, got {routing!r}")
    if discipline not in DISCIPLINES:
        raise ValueError(f"discipline must be one of {DISCIPLINES}, got {discipline!r}")
    if breach not in BREACHES:
        raise ValueError(f"breach must be one of {tuple(BREACHES)}, got {breach!r}")
    if not (np.isfinite(aging) and aging >= 0):
        raise ValueError(f"aging must be a finite number of score points per hour >= 0, got {aging!r}")
    if aging > 0 and discipline != "highest_score":
        raise ValueError(f"aging applies to discipline='highest_score' only, got discipline={discipline!r}")
    if discipline == "highest_score":
        if score is None:
            raise ValueError("score is required for discipline='highest_score'")
        sc = _float_array(score, "score", n)
    elif score is not None:
        sc = _float_array(score, "score", n)
    deadline = late = None
    if deadline_at is not None:
        deadline = _float_array(deadline_at, "deadline_at", n, allow_inf=True)
        late = deadline < handoff  # due before it arrives: breached on arrival
    elif breach != "none":
        raise ValueError(f"deadline_at is required for breach={breach!r}")
    tries = None
    if attempts is not None:
        a = np.asarray(attempts)
        if a.ndim != 1 or a.shape[0] != n:
            raise ValueError(f"attempts must have the length of handoff_at ({n}), got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer) and not (
            np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a))
        ):
            raise ValueError("attempts must be integers")
        if np.any(a < 1):
            raise ValueError("attempts must be >= 1")
        tries = a.astype(np.int64)
    max_tries = 1 if tries is None else int(tries.max(initial=1))
    gaps = np.zeros(0)
    att_work = None
    if max_tries > 1:
        if attempt_gap_minutes is None:
            raise ValueError("attempt_gap_minutes is required when attempts > 1")
        gaps = _float_array(attempt_gap_minutes, "attempt_gap_minutes", None)
        if gaps.shape[0] < max_tries - 1:
            raise ValueError(
                f"attempt_gap_minutes must have at least max(attempts) - 1 = {max_tries - 1} "
                f"values, got {gaps.shape[0]}"
            )
        if np.any(gaps < 0):
            raise ValueError("attempt_gap_minutes must be >= 0")
        if attempt_minutes is None:
            raise ValueError("attempt_minutes is required when attempts > 1")
        am = np.asarray(attempt_minutes, dtype=np.float64)
        if am.ndim == 0:
            am = np.full(n, float(am))
        att_work = _float_array(am, "attempt_minutes", n)
        if np.any(att_work <= 0):
            raise ValueError("attempt_minutes must be > 0")

    # Rank leads by handoff time, ties by input index; the kernels see rank order.
    if n > 1 and np.any(handoff[1:] < handoff[:-1]):
        order = np.argsort(handoff, kind="stable")
        inverse = np.empty(n, dtype=np.int64)
        inverse[order] = np.arange(n)
    else:
        order = inverse = None

    def by_rank(a: np.ndarray) -> np.ndarray:
        return a if order is None else a[order]

    def by_input(a: np.ndarray) -> np.ndarray:
        return a if inverse is None else a[inverse]

    t = by_rank(handoff)
    w = by_rank(work)
    pooled = routing == "pooled"
    code = BREACHES[breach]
    if pooled and code == _k.REASSIGN:
        code = 0
    opens, closes, cum, off, total = _flatten(calendars)
    act_from, act_to = _on_team(rep_on_team, reps)

    if _fast_path_applies(routing, discipline, code, max_tries):
        start, rep, busy = _k.fifo_fast(t, w, pooled, reps, opens, closes, cum, off, total, act_from, act_to)
        if deadline is None:
            breached = np.isnan(start)
        else:
            breached = ~(start <= by_rank(deadline))
        recycled = np.zeros(n, dtype=bool)
        reassigned = np.zeros(n, dtype=bool)
        att_lead = np.zeros(0, dtype=np.int64)
        att_at = np.zeros(0)
    else:
        aged = None
        if discipline == "highest_score":
            aged = by_rank(sc) - float(aging) * t / 60.0 if aging > 0 else by_rank(sc)
        prio = _priority(discipline, n, aged)
        if deadline is None:
            dl_lead = np.zeros(0, dtype=np.int64)
            dl_time = np.zeros(0)
        else:
            d = by_rank(np.where(late, handoff, deadline))  # a late lead's breach happens at its handoff
            finite = np.flatnonzero(np.isfinite(d))
            dl_lead = finite[np.argsort(d[finite], kind="stable")].astype(np.int64)
            dl_time = d[dl_lead]
        start, rep, breached, recycled, reassigned, att_lead, att_at, busy = _k.general(
            t,
            w,
            prio,
            dl_lead,
            dl_time,
            code,
            pooled,
            ASSIGN.get(routing, _k.ROUND_ROBIN),
            reps,
            opens,
            closes,
            cum,
            off,
            total,
            np.ones(n, dtype=np.int64) if tries is None else by_rank(tries),
            gaps,
            np.zeros(n) if att_work is None else by_rank(att_work),
            bool(followups_first),
            act_from,
            act_to,
        )
        if late is not None:
            breached |= by_rank(late)
        if order is not None:
            att_lead = order[att_lead]
        att_lead, att_at = _by_time_then_lead(att_lead, att_at, n)

    return QueueResult(
        first_touch_at=by_input(start),
        rep=by_input(rep),
        breached=by_input(breached),
        recycled=by_input(recycled),
        reassigned=by_input(reassigned),
        attempt_lead=att_lead,
        attempt_at=att_at,
        busy_minutes=busy,
    )


def _by_time_then_lead(lead: np.ndarray, at: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Order follow-ups by time, then lead; the kernel already returns them by time."""
    if np.any(at[1:] < at[:-1]):  # pragma: no cover - the kernel emits them in time order
        order = np.lexsort((lead, at))
    else:
        group = np.zeros(at.shape[0], dtype=np.int64)
        np.cumsum(at[1:] != at[:-1], out=group[1:])
        order = np.argsort(group * max(n, 1) + lead, kind="stable")  # nearly sorted: fast
    return lead[order], at[order]


def _on_team(rep_on_team: ArrayLike | None, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Each rep's first and last-plus-one minute on the team (everyone always by default)."""
    if rep_on_team is None:
        return np.full(reps, -np.inf), np.full(reps, np.inf)
    a = np.asarray(rep_on_team, dtype=np.float64)
    if a.shape != (reps, 2):
        raise ValueError(f"rep_on_team must be (reps, 2) = ({reps}, 2) minutes [from, to), got shape {a.shape}")
    if np.isnan(a).any() or np.any(a[:, 0] >= a[:, 1]):
        bad = int(np.flatnonzero(np.isnan(a).any(axis=1) | (a[:, 0] >= a[:, 1]))[0])
        raise ValueError(f"rep_on_team, rep {bad}: from {a[bad, 0]} must be before to {a[bad, 1]}")
    return np.ascontiguousarray(a[:, 0]), np.ascontiguousarray(a[:, 1])


def _fast_path_applies(routing: str, discipline: str, breach_code: int, max_tries: int) -> bool:
    return routing in ("round_robin", "pooled") and discipline == "fifo" and breach_code == 0 and max_tries == 1


def _priority(discipline: str, n: int, score: np.ndarray | None) -> np.ndarray:
    """Place of each lead (given in handoff-rank order) in the waiting line: smaller first."""
    rank = np.arange(n, dtype=np.int64)
    if discipline == "fifo":
        return rank
    if discipline == "newest":
        return n - 1 - rank
    line = np.lexsort((rank, -score))
    prio = np.empty(n, dtype=np.int64)
    prio[line] = rank
    return prio


def _flatten(calendars: list[np.ndarray]):
    """Concatenate per-rep intervals with offsets and cumulative working minutes."""
    off = np.zeros(len(calendars) + 1, dtype=np.int64)
    off[1:] = np.cumsum([len(c) for c in calendars])
    opens = np.concatenate([c[:, 0] for c in calendars]) if off[-1] else np.zeros(0)
    closes = np.concatenate([c[:, 1] for c in calendars]) if off[-1] else np.zeros(0)
    cum = np.zeros(off[-1])
    total = np.zeros(len(calendars))
    for r, c in enumerate(calendars):
        length = c[:, 1] - c[:, 0]
        csum = np.cumsum(length)
        cum[off[r] + 1 : off[r + 1]] = csum[:-1]
        total[r] = csum[-1] if len(c) else 0.0
    return opens, closes, cum, off, total
