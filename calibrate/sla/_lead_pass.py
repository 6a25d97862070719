"""The one pass over the leads: each lead into the bins of the highest threshold it passes.

:func:`aggregate` reads what a :class:`LeadPass` holds (the team's working periods, the SLA
clock, the work moments, the decay rates) and classifies every lead once; a sum from the
top then gives every threshold its bins. The kernel is compiled with ``cache=True`` and
``nogil=True``: above ``PARALLEL_LEADS`` leads, parts of them run in threads.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from calibrate.sla._decay import decay_exps
from calibrate.sla._threads import in_threads, thread_count
from simulate.calendar import MINUTES_PER_DAY
from simulate.search import search_right

PARALLEL_LEADS = 100_000
"""From this many leads the pass runs in up to four threads (``numba.get_num_threads()``)."""


class SlaClock(NamedTuple):
    """The SLA's clock: what ``SLA.deadlines`` needs."""

    calendar_clock: bool  # the SLA counts calendar time (else the SLA calendar's working time)
    minutes: float  # the SLA in minutes of that clock
    opens: np.ndarray  # (S,) SLA calendar openings
    lengths: np.ndarray  # (S,) and lengths
    cum: np.ndarray  # (S,) SLA working minutes before each opening
    total: float  # SLA working minutes in all
    day_s: np.ndarray  # per day: the first SLA interval opening after its start


class LeadPass(NamedTuple):
    """What the one pass over the leads reads: calendars, the SLA clock, the work moments."""

    thresholds: np.ndarray  # (L,) sorted distinct
    po: np.ndarray  # (P,) period openings (calendar minutes)
    pl: np.ndarray  # (P,) period lengths
    pw: np.ndarray  # (P,) team working minutes before each opening
    day_p: np.ndarray  # per day: the first period closing after its start
    clock: SlaClock
    e1: np.ndarray  # (n,) or (1,) E[work] per lead
    e2: np.ndarray  # (n,) or (1,) E[work^2] per lead
    rates: np.ndarray  # the single-curve decay rates
    pair: np.ndarray  # (2, Q) which two of them make each decay term
    contact: np.ndarray  # (n,) or (1,) chance that a lead with good data answers
    bad: np.ndarray  # (n,) or (1,) chance of bad contact data
    fu_surv: np.ndarray  # (A - 1,) chance that a reachable lead has not answered by attempt j
    fu_at: np.ndarray  # (A - 1,) calendar minutes from the first touch to follow-up j
    fu_mean: float  # mean minutes of a follow-up


@numba.njit(cache=True)
def day_index(opens, closes, n_days):
    """For each day ``d``: the first interval closing after ``d * 1440`` (a start for scans)."""
    out = np.empty(n_days + 1, dtype=np.int64)
    i = 0
    for d in range(n_days + 1):
        t = d * MINUTES_PER_DAY
        while i < closes.shape[0] and closes[i] <= t:
            i += 1
        out[d] = i
    return out


@numba.njit(cache=True, _nrt=False)
def _deadline(clock, h, d):
    """The deadline of a lead handed off at ``h`` (day ``d``), as ``SLA.deadlines`` computes it."""
    if clock.calendar_clock:
        return h + clock.minutes
    opens, cum = clock.opens, clock.cum
    S = opens.shape[0]
    j = clock.day_s[d] - 1  # last SLA interval opening at or before h
    while j + 1 < S and opens[j + 1] <= h:
        j += 1
    wt = 0.0 if j < 0 else cum[j] + min(h - opens[j], clock.lengths[j])
    w = wt + clock.minutes
    if w > clock.total:
        return np.inf
    j = max(j, 0)
    while j + 1 < S and cum[j + 1] < w:
        j += 1
    while j > 0 and cum[j] >= w:
        j -= 1
    return opens[j] + (w - cum[j])


@numba.njit(cache=True, nogil=True, _nrt=False)
def _follow_ups(lp, k, i, avail, p, fu):
    """The expected follow-up work of lead ``i`` (threshold ``k``), first touched at about
    ``avail`` (period ``p``), into ``fu``: per period, in its in-hours bins or (last column)
    due before its opening."""
    po, pl, day_p = lp.po, lp.pl, lp.day_p
    P = po.shape[0]
    J = fu.shape[2] - 1
    n_days = day_p.shape[0] - 1
    per = lp.contact.shape[0] > 1
    reach = lp.contact[i] if per else lp.contact[0]
    good = 1.0 - (lp.bad[i] if per else lp.bad[0])
    for j in range(lp.fu_at.shape[0]):
        t = avail + lp.fu_at[j]
        d = min(int(t / MINUTES_PER_DAY), n_days)
        p3 = max(p, day_p[d])
        while p3 < P and po[p3] + pl[p3] <= t:
            p3 += 1
        if p3 >= P:
            return
        b = min(int((t - po[p3]) / pl[p3] * J), J - 1) if t >= po[p3] else J
        fu[k, p3, b] += good * (reach * lp.fu_surv[j] + 1.0 - reach) * lp.fu_mean


@numba.njit(cache=True, nogil=True)
def _aggregate_chunk(lp, lo, hi, score, handoff, off, inn, vec, fu):
    """Leads ``lo .. hi`` into the accumulators ``off``, ``inn`` and ``vec`` (never, MQLs, work
    sums per threshold); returns the last period that serves one of them.

    Per lead: the working period that first serves it, in or out of hours, its bin, its
    deadline exactly as ``SLA.deadlines`` (``add_working_minutes`` on the SLA calendar, or
    the calendar clock), its slack in team working minutes from its first possible start,
    and (off hours) ``exp(-k_q * delay to the opening)``. Calendar look-ups start from a
    per-day index and scan forward, so each lead costs O(1).
    """
    thr, po, pl, pw, day_p, clock = lp.thresholds, lp.po, lp.pl, lp.pw, lp.day_p, lp.clock
    e1, e2, rates, pair = lp.e1, lp.e2, lp.rates, lp.pair
    P = po.shape[0]
    Q = pair.shape[1]
    G = off.shape[2]
    J = inn.shape[2]
    total = pw[P - 1] + pl[P - 1]
    buf = np.zeros(rates.shape[0])
    ex = np.zeros(Q)
    last = -1
    per_lead = e1.shape[0] > 1
    n_days = day_p.shape[0] - 1
    for i in range(lo, hi):
        sc = score[i]
        if not (sc >= thr[0]):
            continue
        k = search_right(thr, 0, thr.shape[0], sc) - 1  # the highest threshold it passes
        h = handoff[i]
        vec[1, k] += 1.0
        vec[2, k] += e1[i] if per_lead else e1[0]
        vec[3, k] += e2[i] if per_lead else e2[0]
        d = min(int(h / MINUTES_PER_DAY), n_days)
        p = day_p[d]  # first period closing after h
        while p < P and po[p] + pl[p] <= h:
            p += 1
        if p >= P:
            vec[0, k] += 1.0
            continue
        if p > last:
            last = p
        inside = h >= po[p]
        avail = h if inside else po[p]
        if lp.fu_at.shape[0] > 0:
            _follow_ups(lp, k, i, avail, p, fu)
        dl = _deadline(clock, h, d)
        fail = not (dl >= avail)
        if np.isfinite(dl):
            p2 = p
            while p2 + 1 < P and po[p2 + 1] <= dl:
                p2 += 1
            due = pw[p2] + min(max(dl - po[p2], 0.0), pl[p2]) if po[p2] <= dl else pw[p2]
        else:
            due = total
        slack = max(due - (pw[p] + (h - po[p] if inside else 0.0)), 0.0)
        if inside:
            b = min(int((h - po[p]) / pl[p] * J), J - 1)
            cell = inn[k, p, b]
        else:
            start = po[p - 1] + pl[p - 1] if p > 0 else 0.0
            gap = po[p] - start
            b = min(int((h - start) / gap * G), G - 1) if gap > 0 else 0
            cell = off[k, p, b]
            decay_exps(po[p] - h, rates, pair, buf, ex)
            for q in range(Q):
                cell[3 + q] += ex[q]
        cell[0] += 1.0
        if fail:
            cell[1] += 1.0
        else:
            cell[2] += slack
    return last


@numba.njit(cache=True, nogil=True, _nrt=False)
def _sum_from_top(a):
    """``a[k] += a[k + 1]`` from the last row up: row ``k`` becomes the sum of rows ``k ..``."""
    for k in range(a.shape[0] - 2, -1, -1):
        for i in range(a.shape[1]):
            a[k, i] += a[k + 1, i]


def aggregate(lp: LeadPass, score: np.ndarray, handoff: np.ndarray, off_bins: int, in_bins: int):
    """Classify every lead once and add it to the bins of the highest threshold it passes.

    Returns ``off`` (L, n_arr, off_bins, 3 + Q): per threshold, period and off-hours bin the
    MQLs, of them failing for sure, their slack sum and sums of ``exp(-k_q * delay to
    opening)``; ``inn`` (L, n_arr, in_bins, 3) the same in hours without the decay; per
    threshold ``fu`` (L, n_arr, in_bins + 1), the expected follow-up minutes due in each
    in-hours bin or (last) before each opening, the first touch taken at the first possible
    start and follow-up ``j`` at ``fu_at[j]`` after it; the MQLs after the last period
    (``never``), the MQLs and the sums of their work and squared work; and ``n_arr``, the
    periods that receive arrivals. Each
    threshold's figures are those of its own MQLs and every threshold's above it.
    """
    n = score.shape[0]
    chunks = thread_count(4) if n > PARALLEL_LEADS else 1
    L = lp.thresholds.shape[0]
    P = lp.po.shape[0]
    Q = lp.pair.shape[1]
    offs = np.zeros((chunks, L, P, off_bins, 3 + Q))
    inns = np.zeros((chunks, L, P, in_bins, 3))
    vecs = np.zeros((chunks, 4, L))
    fus = np.zeros((chunks, L, P, in_bins + 1))
    bounds = [n * c // chunks for c in range(chunks + 1)]

    def part(c: int) -> int:
        return _aggregate_chunk(lp, bounds[c], bounds[c + 1], score, handoff, offs[c], inns[c], vecs[c], fus[c])

    lasts = in_threads(part, chunks)
    n_arr = max(max(lasts) + 1, 1)
    off = offs[0, :, :n_arr].copy()
    inn = inns[0, :, :n_arr].copy()
    vec = vecs[0].T.copy()  # (L, 4)
    fu = fus[0, :, :n_arr].copy()
    for c in range(1, chunks):  # the parts added up in order
        off += offs[c, :, :n_arr]
        inn += inns[c, :, :n_arr]
        vec += vecs[c].T
        fu += fus[c, :, :n_arr]
    # each threshold's MQLs are those of every threshold at or above its index: sums from the top
    for a in (off, inn, vec, fu):
        _sum_from_top(a.reshape(L, -1))
    return off, inn, fu, vec[:, 0].copy(), vec[:, 1].copy(), vec[:, 2].copy(), vec[:, 3].copy(), n_arr
