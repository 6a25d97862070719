"""Numba kernels behind :func:`simulate.queue.serve_queue`.

Everything here works on leads indexed by handoff rank (sorted handoff order, ties by input
index) and on the reps' calendars flattened into ``opens``, ``closes``, ``cum`` (working
minutes before each interval) with rep ``r`` owning rows ``off[r]:off[r + 1]`` and
``total[r]`` working minutes in all.

Each rep keeps his own working-time clock: ``F[r]`` is the working time at which his last job
ends and ``nf[r]`` the calendar instant at which he can next start (the next opening at or
after that end). The start of a job that became available to rep ``r`` at calendar time ``t``
is, in both kernels, :func:`_start`::

    t <= nf[r]  ->  start nf[r],          working time F[r]
    t >  nf[r]  ->  start next_open(t),   working time W(t)

and the job then ends at working time ``start_w + work``. Using this one function in the fast
path (a Lindley recursion over free times in working time) and in the event-driven path makes
the two agree exactly, not just up to rounding.
"""

from __future__ import annotations

import numba
import numpy as np

from simulate.search import search_right as _search_right

# The small helpers below are compiled with ``_nrt=False`` (no reference counting): they
# only read and write arrays they are given. With reference counting on, every call from
# the event loop paid atomic increments and decrements for each array argument, which made
# the event-driven path three to four times slower (numba issue #2345).

ESCALATE = 1
REASSIGN = 2
RECYCLE = 3

ROUND_ROBIN = 0
LEAST_LOADED = 1
OPEN_HOURS = 2
"""Owner at handoff (reps' own queues): rank mod reps; the fewest open MQLs; a rep at work."""

_INF = np.inf


@numba.njit(cache=True, _nrt=False)
def _working_time(opens, closes, cum, lo, hi, t):
    """Working minutes of one rep before calendar time ``t``."""
    i = _search_right(opens, lo, hi, t) - 1
    if i < lo:
        return 0.0
    d = t - opens[i]
    length = closes[i] - opens[i]
    if d > length:
        d = length
    return cum[i] + d


@numba.njit(cache=True, _nrt=False)
def _from_working_time(opens, cum, lo, hi, total, w):
    """Calendar instant where working time ``w`` is reached and work goes on."""
    if w >= total:
        return _INF
    i = _search_right(cum, lo, hi, w) - 1
    return opens[i] + (w - cum[i])


@numba.njit(cache=True, _nrt=False)
def _next_open(opens, closes, lo, hi, t):
    """``t`` if working at ``t``, else the next opening (``inf`` if none)."""
    k = _search_right(closes, lo, hi, t)
    if k == hi:
        return _INF
    o = opens[k]
    return o if o > t else t


@numba.njit(cache=True, _nrt=False)
def _start(opens, closes, cum, off, total, F, nf, r, t):
    """Start (calendar, working time) of a job available to rep ``r`` from ``t``."""
    if t <= nf[r]:
        return nf[r], F[r]
    lo = off[r]
    hi = off[r + 1]
    return _next_open(opens, closes, lo, hi, t), _working_time(opens, closes, cum, lo, hi, t)


@numba.njit(cache=True)
def _initial_next_free(opens, cum, off, total, reps):
    nf = np.empty(reps)
    for r in range(reps):
        nf[r] = _from_working_time(opens, cum, off[r], off[r + 1], total[r], 0.0)
    return nf


@numba.njit(cache=True)
def fifo_fast(t, work, pooled, reps, opens, closes, cum, off, total, act_from, act_to):
    """First-in-first-out without follow-ups or breach actions: one pass over the leads.

    Round robin: lead k goes to the next rep in turn among those on the team at its handoff
    (``act_from <= t < act_to``; rep k mod reps when everyone always is). Pooled: to the rep who can start it
    earliest, lowest index on ties; in a pooled FIFO queue a lead never starts before an
    earlier one, so serving leads in handoff order is exact. Handoff times only grow, so
    each rep keeps a pointer to his first interval closing after ``t`` instead of searching;
    the arithmetic is that of :func:`_start`, bit for bit.
    """
    n = t.shape[0]
    start = np.empty(n)
    rep = np.empty(n, dtype=np.int64)
    busy = np.zeros(reps)
    F = np.zeros(reps)
    nf = _initial_next_free(opens, cum, off, total, reps)
    ptr = off[:-1].copy()  # first interval closing after the current handoff
    fptr = off[:-1].copy()  # last interval opening at or before working time F[r]
    rot = np.int64(0)
    for k in range(n):
        tk = t[k]
        if pooled:
            # Usually every rep is busy or off at tk: then the earliest next-free instant
            # (lowest index on ties) wins and no calendar lookup is needed.
            best = nf[0]
            br = 0
            for r in range(1, reps):
                if nf[r] < best:
                    best = nf[r]
                    br = r
            r0 = 0
            r1 = 0 if best >= tk else reps
            best_w = F[br]
        else:
            r0 = _turn(rot, tk, reps, act_from, act_to)
            rot = (r0 + 1) % reps
            r1 = r0 + 1
            br = r0
            best = nf[r0]
            best_w = F[r0]
            if best >= tk:
                r1 = r0
        if r1 > r0:
            # Some rep is free before tk: scan in index order; a free rep starts at the next
            # open instant with working time W(tk).
            best = _INF
            for r in range(r0, r1):
                if tk <= nf[r]:
                    s = nf[r]
                    sw = F[r]
                else:
                    hi = off[r + 1]
                    p = ptr[r]
                    while p < hi and closes[p] <= tk:
                        p += 1
                    ptr[r] = p
                    if p == hi:
                        s = _INF
                        sw = total[r]
                    elif opens[p] <= tk:
                        s = tk
                        sw = cum[p] + (tk - opens[p])
                    else:
                        s = opens[p]
                        sw = cum[p]
                if s < best:
                    best = s
                    best_w = sw
                    br = r
                    if s == tk:
                        break  # nobody can start earlier than the handoff
        if best == _INF:
            start[k] = np.nan
            rep[k] = -1 if pooled else r0
            continue
        w = work[k]
        start[k] = best
        rep[k] = br
        left = total[br] - best_w
        busy[br] += w if w < left else left
        f = best_w + w
        F[br] = f
        if f >= total[br]:
            nf[br] = _INF
        else:  # as _from_working_time, with a pointer instead of a search (F only grows)
            hi = off[br + 1]
            p = fptr[br]
            while p + 1 < hi and cum[p + 1] <= f:
                p += 1
            fptr[br] = p
            nf[br] = opens[p] + (f - cum[p])
    return start, rep, busy


# Waiting lines are pairing heaps whose nodes live in four preallocated arrays shared by all
# lines (a line is just the index of its root node, -1 when empty). A node is (key, lead);
# lower key first, then lower lead. Every push takes a fresh node; a lead that leaves a line
# other than from its top (started elsewhere, recycled, re-keyed, moved) leaves a stale node
# that is dropped when it reaches the top.


@numba.njit(cache=True, _nrt=False)
def _before(nkey, nid, a, b):
    return nkey[a] < nkey[b] or (nkey[a] == nkey[b] and nid[a] < nid[b])


@numba.njit(cache=True, _nrt=False)
def _link(nkey, nid, child, sib, a, b):
    """Meld two roots; the loser becomes the winner's first child."""
    if _before(nkey, nid, b, a):
        a, b = b, a
    sib[b] = child[a]
    child[a] = b
    return a


@numba.njit(cache=True, _nrt=False)
def _insert(nkey, nid, child, sib, root, node):
    child[node] = -1
    sib[node] = -1
    if root < 0:
        return node
    return _link(nkey, nid, child, sib, root, node)


@numba.njit(cache=True, _nrt=False)
def _delete_min(nkey, nid, child, sib, root):
    """Remove the root; two-pass pairing of its children. Returns the new root."""
    a = child[root]
    if a < 0:
        return -1
    pairs = -1  # melded pairs, chained through sib, last pair first
    while a >= 0:
        b = sib[a]
        if b < 0:
            sib[a] = pairs
            pairs = a
            break
        nxt = sib[b]
        sib[a] = -1
        sib[b] = -1
        m = _link(nkey, nid, child, sib, a, b)
        sib[m] = pairs
        pairs = m
        a = nxt
    out = pairs
    pairs = sib[out]
    sib[out] = -1
    while pairs >= 0:
        nxt = sib[pairs]
        sib[pairs] = -1
        out = _link(nkey, nid, child, sib, out, pairs)
        pairs = nxt
    return out


@numba.njit(cache=True, _nrt=False)
def _clean(nkey, nid, child, sib, root, state, key, owner, q, pooled):
    """Drop stale nodes (started, recycled, re-keyed or moved leads) from the top."""
    while root >= 0:
        k = nid[root]
        if state[k] == 1 and key[k] == nkey[root] and (pooled or owner[k] == q):
            return root
        root = _delete_min(nkey, nid, child, sib, root)
    return root


@numba.njit(cache=True, _nrt=False)
def _turn(rot, t, reps, act_from, act_to):
    """The first rep from ``rot`` on who is on the team at ``t`` (``rot`` if nobody is)."""
    for i in range(reps):
        r = (rot + i) % reps
        if act_from[r] <= t < act_to[r]:
            return r
    return rot


@numba.njit(cache=True, _nrt=False)
def _owner(assign, k, t, rot, waiting, reps, opens, closes, off, act_from, act_to):
    """The rep a lead handed off at ``t`` (rank ``k``) goes to when each rep has his own queue.

    Only reps on the team at ``t`` (``act_from <= t < act_to``) are considered, when anyone
    is. ``ROUND_ROBIN``: the next rep in turn from ``rot`` (rank mod reps when everyone is
    always on the team), as CRMs rotate. ``LEAST_LOADED``: the rep with the fewest
    open (assigned, not yet touched) MQLs. ``OPEN_HOURS``: the rep with the fewest open MQLs
    among those at work at ``t``; when nobody is at work, among all reps, ties to the one
    whose hours open first (the next time zone to wake up). Remaining ties go to the first
    rep from ``rot`` on (the one after the last assigned), so equal reps take turns.
    """
    if assign == ROUND_ROBIN:
        return _turn(rot, t, reps, act_from, act_to)
    anyone_on_team = False
    for r in range(reps):
        if act_from[r] <= t < act_to[r]:
            anyone_on_team = True
            break
    anyone_at_work = False
    if assign == OPEN_HOURS:
        for r in range(reps):
            if anyone_on_team and not act_from[r] <= t < act_to[r]:
                continue
            if _next_open(opens, closes, off[r], off[r + 1], t) == t:
                anyone_at_work = True
                break
    best = -1
    fewest = 0
    best_open = _INF
    for i in range(reps):
        r = (rot + i) % reps
        if anyone_on_team and not act_from[r] <= t < act_to[r]:
            continue
        o = 0.0
        if assign == OPEN_HOURS:
            o = _next_open(opens, closes, off[r], off[r + 1], t)
            if anyone_at_work and o != t:
                continue
        if best < 0 or waiting[r] < fewest or (waiting[r] == fewest and o < best_open):
            best = r
            fewest = waiting[r]
            best_open = o
    return best


@numba.njit(cache=True)
def general(
    t,
    work,
    prio,
    dl_lead,
    dl_time,
    breach,
    pooled,
    assign,
    reps,
    opens,
    closes,
    cum,
    off,
    total,
    attempts,
    gaps,
    attempt_work,
    followups_first,
    act_from,
    act_to,
):
    """Event-driven queue: any routing, discipline, breach action and follow-ups.

    Events at one instant are handled in this order: handoffs (in rank order), then reps
    able to start (lowest index first), then deadlines (by deadline, then rank), one at a
    time, so a lead reassigned at its deadline can be started at that same instant.
    """
    n = t.shape[0]
    nq = 1 if pooled else reps
    ft = np.full(nq, -1, dtype=np.int64)  # first-touch lines: per rep, or one pool
    fu = np.full(reps, -1, dtype=np.int64)  # each rep's follow-ups, keyed by due time

    F = np.zeros(reps)
    nf = _initial_next_free(opens, cum, off, total, reps)
    wake = np.full(reps, _INF)
    queued_work = np.zeros(reps)
    waiting = np.zeros(reps, dtype=np.int64)  # open MQLs of each rep: assigned, not yet touched
    rot = np.int64(0)
    busy = np.zeros(reps)

    state = np.zeros(n, dtype=np.int8)  # 0 not yet handed off, 1 waiting, 2 started, 3 recycled
    owner = np.full(n, -1, dtype=np.int64)
    key = prio.astype(np.float64)
    avail = np.zeros(n)
    made = np.zeros(n, dtype=np.int64)

    n_followups = 0
    for k in range(n):
        if attempts[k] > 1:
            n_followups += attempts[k] - 1
    att_lead = np.empty(n_followups, dtype=np.int64)
    att_at = np.empty(n_followups)
    m = 0
    # Nodes: one per handoff, one per escalation or reassignment, one per follow-up.
    n_nodes = 2 * n + n_followups
    nkey = np.empty(n_nodes)
    nid = np.empty(n_nodes, dtype=np.int64)
    child = np.empty(n_nodes, dtype=np.int64)
    sib = np.empty(n_nodes, dtype=np.int64)
    # np.int64(...), not a bare constant, for the counters passed to the helpers: a literal
    # makes numba compile each helper a second time for the type Literal[int](0) (or -1)
    nn = np.int64(0)

    start = np.full(n, np.nan)
    rep = np.full(n, -1, dtype=np.int64)
    breached = np.zeros(n, dtype=np.bool_)
    recycled = np.zeros(n, dtype=np.bool_)
    reassigned = np.zeros(n, dtype=np.bool_)
    est = np.empty(reps)

    ia = 0
    idl = 0
    nd = dl_lead.shape[0]
    escalations = 0
    while True:
        ta = t[ia] if ia < n else _INF
        td = dl_time[idl] if idl < nd else _INF
        tw = _INF
        rw = np.int64(-1)
        for r in range(reps):
            if wake[r] < tw:
                tw = wake[r]
                rw = r
        now = min(ta, tw, td)
        if now == _INF:
            break

        if ta == now:  # a handoff
            k = ia
            ia += 1
            state[k] = 1
            avail[k] = ta
            if pooled:
                nkey[nn] = key[k]
                nid[nn] = k
                ft[0] = _insert(nkey, nid, child, sib, ft[0], nn)
                nn += 1
                for r in range(reps):
                    s, _ = _start(opens, closes, cum, off, total, F, nf, r, ta)
                    if s < wake[r]:
                        wake[r] = s
            else:
                r = _owner(assign, k, ta, rot, waiting, reps, opens, closes, off, act_from, act_to)
                rot = (r + 1) % reps
                owner[k] = r
                nkey[nn] = key[k]
                nid[nn] = k
                ft[r] = _insert(nkey, nid, child, sib, ft[r], nn)
                nn += 1
                queued_work[r] += work[k]
                waiting[r] += 1
                s, _ = _start(opens, closes, cum, off, total, F, nf, r, ta)
                if s < wake[r]:
                    wake[r] = s
            continue

        if tw == now:  # rep rw is free and working: he takes his next job
            r = rw
            q = 0 if pooled else r
            ft[q] = _clean(nkey, nid, child, sib, ft[q], state, key, owner, q, pooled)
            has_ft = ft[q] >= 0
            has_fu = fu[r] >= 0 and nkey[fu[r]] <= now
            if not has_ft and not has_fu:
                wake[r] = _INF
                if fu[r] >= 0:
                    wake[r], _ = _start(opens, closes, cum, off, total, F, nf, r, nkey[fu[r]])
                continue
            if has_fu and (followups_first or not has_ft):
                k = nid[fu[r]]
                ready = nkey[fu[r]]
                fu[r] = _delete_min(nkey, nid, child, sib, fu[r])
                w = attempt_work[k]
                first = False
            else:
                k = nid[ft[q]]
                ft[q] = _delete_min(nkey, nid, child, sib, ft[q])
                ready = avail[k]
                w = work[k]
                first = True
            s, sw = _start(opens, closes, cum, off, total, F, nf, r, ready)
            if first:
                state[k] = 2
                start[k] = s
                rep[k] = r
                if not pooled:
                    queued_work[r] -= w
                    waiting[r] -= 1
                owner[k] = r
            else:
                att_lead[m] = k
                att_at[m] = s
                m += 1
            made[k] += 1
            left = total[r] - sw
            busy[r] += w if w < left else left
            F[r] = sw + w
            nf[r] = _from_working_time(opens, cum, off[r], off[r + 1], total[r], F[r])
            if made[k] < attempts[k]:
                nkey[nn] = s + gaps[made[k] - 1]
                nid[nn] = k
                fu[r] = _insert(nkey, nid, child, sib, fu[r], nn)
                nn += 1
            wake[r] = _INF
            ft[q] = _clean(nkey, nid, child, sib, ft[q], state, key, owner, q, pooled)
            if ft[q] >= 0:
                wake[r], _ = _start(opens, closes, cum, off, total, F, nf, r, now)
            if fu[r] >= 0:
                s2, _ = _start(opens, closes, cum, off, total, F, nf, r, nkey[fu[r]])
                if s2 < wake[r]:
                    wake[r] = s2
            continue

        # a deadline
        k = dl_lead[idl]
        idl += 1
        if state[k] != 1:
            continue
        breached[k] = True
        if breach == ESCALATE:
            key[k] = escalations - n - 1.0
            escalations += 1
            q = 0 if pooled else owner[k]
            nkey[nn] = key[k]
            nid[nn] = k
            ft[q] = _insert(nkey, nid, child, sib, ft[q], nn)
            nn += 1
        elif breach == RECYCLE:
            state[k] = 3
            recycled[k] = True
            if not pooled:
                queued_work[owner[k]] -= work[k]
                waiting[owner[k]] -= 1
        elif breach == REASSIGN and not pooled:
            cur = owner[k]
            best = _INF
            for r in range(reps):
                backlog = queued_work[r] - (work[k] if r == cur else 0.0)
                wt = _working_time(opens, closes, cum, off[r], off[r + 1], now)
                base = (wt if wt > F[r] else F[r]) + backlog
                est[r] = _from_working_time(opens, cum, off[r], off[r + 1], total[r], base)
                if est[r] < best:
                    best = est[r]
            target = cur
            if est[cur] > best:
                for r in range(reps):
                    if est[r] == best:
                        target = r
                        break
            if target != cur:
                queued_work[cur] -= work[k]
                queued_work[target] += work[k]
                waiting[cur] -= 1
                waiting[target] += 1
                owner[k] = target
                reassigned[k] = True
                avail[k] = now
                nkey[nn] = key[k]
                nid[nn] = k
                ft[target] = _insert(nkey, nid, child, sib, ft[target], nn)
                nn += 1
                s, _ = _start(opens, closes, cum, off, total, F, nf, target, now)
                if s < wake[target]:
                    wake[target] = s

    for k in range(n):
        if state[k] != 2:
            breached[k] = True
            if not pooled:
                rep[k] = owner[k]
    return start, rep, breached, recycled, reassigned, att_lead[:m], att_at[:m], busy
