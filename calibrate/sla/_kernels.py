"""Numba kernels of the analytic SLA model: every threshold at any team size (the model:
:mod:`calibrate.sla.analytic`).

:func:`all_thresholds` runs the fluid queue and its random part over the bins of the one
pass over the leads (:mod:`calibrate.sla._lead_pass`) for any number of (threshold, team
size) pairs, shared out over threads (the kernel is compiled with ``nogil=True``).
Everything it reads is one :class:`~calibrate.sla._structures.Queue` (see
:mod:`calibrate.sla._structures`). Each leaf kernel takes only the parts it needs: the waits in
:mod:`calibrate.sla._queueing`, the value of a wait in :mod:`calibrate.sla._decay`.

Inside one threshold at one team size the pieces below share a :class:`_Case`. They are
split for reading and inlined when compiled (``inline="always"``): the allocations into
:func:`_threshold`, the work of a period into :func:`_period`, which like every kernel that
only reads and writes the arrays it is given is compiled with ``_nrt=False`` (no reference
counting: with it, each piece would pay atomic increments and decrements for every array of
the structures it is handed, which made the evaluation four to twenty times slower; see
``simulate/_queue_kernel.py``). All kernels are compiled with ``cache=True``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from calibrate.sla._decay import decay_exps, to_calendar, value_kept
from calibrate.sla._queueing import Mixture, Rates, batch_wait, evolve, random_wait, rep_nodes

# the tuples are also importable from here: numba's cache indexes written before they moved
# name them as calibrate.sla._kernels.*, and must still unpickle to be found stale
from calibrate.sla._structures import Bins, Decay, Grid, Periods, Queue, Staff, Tables  # noqa: F401
from calibrate.sla._threads import in_threads, thread_count

_SMOOTH = 3  # in-hours rates are averaged over this many working periods either side
_BURST = 2.0  # in-hours arrivals beyond this many Poisson deviations of the smoothed rate are a burst
_FU_CAP = 0.9  # most of the team's time the follow-ups are taken to hold
_SIMPSON = (1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0)  # weights of the first, middle and last place of a bin


class _Touches(NamedTuple):
    """Per bin and component (stranded or not), what the response-time quantiles need."""

    off_t: np.ndarray  # (n_arr, G, 2, 3) calendar wait of the first, middle and last batch place
    off_w: np.ndarray  # (n_arr, G, 2) MQLs the batch stands for
    in_b: np.ndarray  # (n_arr, J, 2) fluid wait ahead
    in_c: np.ndarray  # chance of a random wait
    in_th: np.ndarray  # its rate
    in_cap: np.ndarray  # working minutes by which it is touched anyway (reassigned)
    in_rm: np.ndarray  # working minutes after which it is removed (recycled)
    in_w: np.ndarray  # MQLs the bin stands for


class _Case(NamedTuple):
    """One threshold at one team size, as the pieces of :func:`_threshold` share it."""

    r: Rates
    mix: Mixture
    smooth: np.ndarray  # (n_arr,) in-hours arrival rate per period, noise averaged out
    profile: np.ndarray  # (7, J) each bin's rate per weekday, over the mean rate
    scratch: np.ndarray  # (5, Q) room for the decay exponentials
    vals: np.ndarray  # (Q,) room for a batch's decay
    touches: _Touches


class _Bin(NamedTuple):
    """An in-hours bin of one period as its places see it."""

    p: int
    j: int
    w: float  # bin width, working minutes
    x_start: float  # fluid MQLs in the system at its start, middle and end
    x_mid: float
    x_end: float
    slack: float  # mean SLA slack of its MQLs
    n_comp: int  # the random wait: mixture size, (C, theta) of one exponential
    cw: float
    th: float
    flat: bool  # no backlog in the bin
    lm: float  # the fluid's arrival rate
    ahead: float  # MQLs of the day before the bin (for a stranded lead's rep)


# --------------------------------------------------------------------------------------
# One threshold at one team size
# --------------------------------------------------------------------------------------


@numba.njit(cache=True, inline="always")
def _in_hours_rates(q, k):
    """In-hours arrival rates with the noise averaged out (the random part of the wait stands
    for it): a level per period over the working periods either side, times each bin's
    rate on that weekday over the whole history (a weekly and intraday profile, each
    weekday's deviation from the all-days profile shrunk by the share that Poisson noise
    explains)."""
    n_arr = q.periods.n_arr
    pday, pl = q.periods.pday, q.periods.pl
    inn = q.bins.inn
    J = inn.shape[2]
    day_n = np.zeros(n_arr)
    wd_n = np.zeros((7, J))
    wd_len = np.zeros(7)
    for p in range(n_arr):
        wd_len[pday[p]] += pl[p]
        for j in range(J):
            day_n[p] += inn[k, p, j, 0]
            wd_n[pday[p], j] += inn[k, p, j, 0]
    total = day_n.sum()
    rate = total / wd_len.sum() if total > 0 else 0.0
    profile = np.ones((7, J))  # each weekday's bins: rate over the history's mean rate
    level = np.ones(7)  # and their mean over the day
    if rate > 0:
        pooled_len = wd_len.sum() / J
        g = np.zeros(J)
        for j in range(J):
            for d in range(7):
                g[j] += wd_n[d, j]
            g[j] /= pooled_len * rate
        # each weekday's deviation from the all-days profile, shrunk by the share of it that
        # Poisson noise explains (James-Stein): pure noise gives the all-days profile
        noise = 0.0
        spread = 0.0
        for d in range(7):
            expect = rate * wd_len[d] / J
            if expect <= 0:
                continue
            for j in range(J):
                profile[d, j] = wd_n[d, j] / expect
                spread += (profile[d, j] - g[j]) ** 2
                noise += g[j] / expect if g[j] > 0 else 1.0 / expect
        keep = max(0.0, 1.0 - noise / spread) if spread > 0 else 0.0
        for d in range(7):
            for j in range(J):
                profile[d, j] = g[j] + keep * (profile[d, j] - g[j]) if wd_len[d] > 0 else g[j]
        for d in range(7):
            level[d] = profile[d].mean()
    smooth = np.zeros(n_arr)
    for p in range(n_arr):
        num = 0.0
        den = 0.0
        for p2 in range(max(0, p - _SMOOTH), min(n_arr, p + _SMOOTH + 1)):
            num += day_n[p2]
            den += pl[p2] * level[pday[p2]]
        smooth[p] = num / den if den > 0 else 0.0
    return smooth, profile


@numba.njit(cache=True, inline="always")
def _recycle_cap(q, k, c_eff, mu):
    """Recycling at the deadline: a lead that cannot be started within its slack leaves the
    queue, so the fluid holds at most what the team can start within the mean slack."""
    if q.staff.mode != 1:
        return np.inf
    off, inn = q.bins.off, q.bins.inn
    slack_sum = 0.0
    slack_n = 0.0
    for p in range(q.periods.n_arr):
        for g in range(off.shape[2]):
            slack_sum += off[k, p, g, 2]
            slack_n += off[k, p, g, 0] - off[k, p, g, 1]
        for j in range(inn.shape[2]):
            slack_sum += inn[k, p, j, 2]
            slack_n += inn[k, p, j, 0] - inn[k, p, j, 1]
    if slack_n > 0:
        return c_eff + slack_sum / slack_n * c_eff * mu
    return np.inf


@numba.njit(cache=True, inline="always")
def _case(q, k, c):
    """Threshold ``k`` at team size ``c``: its rates, reps at work, arrival rates and room."""
    st = q.staff
    n_arr = q.periods.n_arr
    m = q.bins.work_mean[k]
    mu = 1.0 / m
    cv2 = q.bins.work_cv2[k]
    c_eff = c * (1.0 - st.sigma) * st.coverage
    p_leave = st.sigma * st.leave
    m_s = st.sigma * (1.0 - st.leave) / (1.0 - p_leave) if p_leave < 1.0 else 0.0
    mean_len = 0.0
    for p in range(n_arr):
        mean_len += q.periods.pl[p]
    mean_len /= max(n_arr, 1)
    p_str = 0.0 if st.pooled else p_leave
    # follow-ups as their own load over the cadence: a first touch brings its own work only
    fu_total = 0.0
    open_total = 0.0
    for p in range(n_arr):
        open_total += q.periods.pl[p]
        for j in range(q.bins.fu.shape[2]):
            fu_total += q.bins.fu[k, p, j]
    # (recycling: the recycled leads make no follow-ups; that load stays charged at the first touch)
    unit = min(st.ft_mean / m, 1.0) if fu_total > 0.0 and st.mode != 1 else 1.0
    rho_f = fu_total / (c_eff * open_total) if c_eff * open_total > 0.0 else 0.0
    slow = 1.0 - min(rho_f, _FU_CAP) if st.followups_first and unit < 1.0 else 1.0
    r = Rates(
        k,
        c,
        mu,
        cv2,
        0.5 * (1.0 + cv2),
        min(st.ft_mean / m, 1.0),
        c_eff,
        m_s,
        0.5 * (m_s if m_s > 0 else 1.0) * mean_len,
        p_str,
        1 if p_str <= 0.0 else 2,
        _recycle_cap(q, k, c_eff, mu),
        unit,
        slow,
    )
    node_k, node_w = rep_nodes(c, st.sigma)  # reps at work (pooled)
    mix = Mixture(node_k, node_w, np.zeros(node_k.shape[0] + 2), np.ones(node_k.shape[0] + 2))
    smooth, profile = _in_hours_rates(q, k)
    Q = q.decay.dec_k.shape[0]
    G = q.bins.off.shape[2]
    J = q.bins.inn.shape[2]
    touches = _Touches(
        np.full((n_arr, G, 2, 3), np.inf),
        np.zeros((n_arr, G, 2)),
        np.zeros((n_arr, J, 2)),
        np.zeros((n_arr, J, 2)),
        np.ones((n_arr, J, 2)),
        np.full((n_arr, J, 2), np.inf),
        np.full((n_arr, J, 2), np.inf),
        np.zeros((n_arr, J, 2)),
    )
    scratch = np.zeros((5, max(Q, q.decay.rates.shape[0])))
    return _Case(r, mix, smooth, profile, scratch, np.zeros(Q), touches)


@numba.njit(cache=True, inline="always")
def _batch_value(q, at, p, g, comp, x0, value):
    """Value kept (added to ``value``) and the touch times of off-hours batch ``g`` of period
    ``p``, at its first, middle and last place (``x0`` the place before it)."""
    r, t, mode = at.r, at.touches, q.staff.mode
    off = q.bins.off
    G = off.shape[2]
    Q = q.decay.dec_k.shape[0]
    pl_p = q.periods.pl[p]
    n = off[r.k, p, g, 0]
    nf = off[r.k, p, g, 1]
    sl = off[r.k, p, g, 2] / (n - nf) if n > nf else 0.0
    width = q.periods.pgap[p] / G
    d_hi = q.periods.pgap[p] - g * width
    wgt = (1.0 - r.p_str) if comp == 0 else r.p_str
    stranded = comp == 1
    vals = at.vals
    for iq in range(Q):
        vals[iq] = 0.0
    few = n <= 2.0 or stranded  # one or two leads, or a small share: the middle will do
    for i in range(3):
        if few and i != 1:
            continue
        x = x0 + 0.5 * i * (n - 1) * r.unit
        b = batch_wait(q.staff.pooled, r, x, pl_p, stranded)
        d = d_hi - (0.5 * i * (n - 1) + 0.5) / n * width
        if b > sl and mode == 1:
            continue  # recycled untouched at its deadline
        if b > sl and mode == 2:  # reassigned: as soon as the team gets to it
            b = max(sl, batch_wait(q.staff.pooled, r, x, pl_p, False))
        if b < pl_p:
            tcal = b  # started the same day
        else:
            tc, _ = to_calendar(q.periods, q.periods.pw[p] + b)
            tcal = tc - q.periods.po[p]
        t.off_t[p, g, comp, i] = d + tcal
        if few:
            t.off_t[p, g, comp, 0] = d + tcal
            t.off_t[p, g, comp, 2] = d + tcal
        if np.isfinite(tcal):
            wi = 1.0 if few else _SIMPSON[i]
            decay_exps(tcal, q.decay.rates, q.decay.pair, at.scratch[0], at.scratch[1])
            for iq in range(Q):
                vals[iq] += wi * at.scratch[1][iq]
    # recycled leads whose deadline passes before the opening keep nothing (their delays are
    # taken as those of the bin's others)
    keep = 1.0 if mode != 1 else (n - nf) / n
    for iq in range(Q):
        value += wgt * keep * q.decay.dec_w[iq] * off[r.k, p, g, 3 + iq] * vals[iq]
    t.off_w[p, g, comp] = wgt * n * keep
    return value


@numba.njit(cache=True, inline="always")
def _batch(q, at, p, x_sys, comply, value, target_only):
    """The MQLs handed off since the last close, a batch at the opening of period ``p``
    behind the carried backlog ``x_sys``; returns the backlog after it and the sums."""
    r = at.r
    off = q.bins.off
    x0 = x_sys
    for g in range(off.shape[2]):
        n = off[r.k, p, g, 0]
        if n <= 0:
            continue
        nf = off[r.k, p, g, 1]
        sl = off[r.k, p, g, 2] / (n - nf) if n > nf else 0.0
        for comp in range(r.comps):
            wgt = (1.0 - r.p_str) if comp == 0 else r.p_str
            # SLA: the places x0 .. x0 + n - 1 whose wait is within the slack
            if q.staff.pooled:
                x_ok = sl * r.c_eff * r.mu * r.slow + r.unit * (r.c_eff - 1.0)
            elif comp == 1:
                x_ok = (sl - q.periods.pl[p]) * r.mu * (1.0 - r.m_s) * r.slow * r.c
            else:
                x_ok = sl * r.c * r.mu * (1.0 - r.m_s) * r.slow + 0.5 * r.unit * (r.c - 1)
            ok = min(max((x_ok - x0) / r.unit + 0.5, 0.0), n) / n
            comply += wgt * (n - nf) * ok
            if not target_only:
                value = _batch_value(q, at, p, g, comp, x0, value)
        x0 += r.unit * (n if q.staff.mode != 1 else n - nf)  # recycled untouched: no work
        if q.staff.mode == 1:
            x0 = min(x0, r.x_cap)
    return x0, comply, value


@numba.njit(cache=True, inline="always")
def _place(q, at, bn, comp, i, target_only):
    """Place ``i`` (start, middle, end) of an in-hours bin: its chance to meet the SLA, its
    value kept, and its fluid wait, chance to wait, cap and removal time."""
    r, mode, p = at.r, q.staff.mode, bn.p
    u = (bn.j + 0.5 * i) * bn.w
    a = q.periods.pw[p] + u
    a_cal = q.periods.po[p] + u
    xi = bn.x_start if i == 0 else (bn.x_mid if i == 1 else bn.x_end)
    b_team = max(0.0, xi - r.c_eff) / (r.c_eff * r.mu)
    sl = bn.slack
    if comp == 0:
        # the backlog ahead, then the random wait: W = B + Wq (after a backlog every rep is
        # still busy, so the wait goes on)
        b = b_team
        ci = bn.cw
        cc = 0.0
        if b <= sl:
            cc = 1.0
            for ic in range(bn.n_comp):
                cc -= at.mix.comp_p[ic] * math.exp(-at.mix.comp_th[ic] * (sl - b))
        md = mode if (mode != 2 or b <= sl) else 0
        rm = sl if mode == 1 else np.inf
        cap = sl if md == 2 else np.inf
    else:
        # his rep is on leave: he waits for the next working day
        ahead = bn.ahead + bn.lm * 0.5 * i * bn.w
        b = (q.periods.pl[p] - u) + (ahead / r.c) / (r.mu * (1.0 - r.m_s) * r.slow)
        ci = 0.0
        cc = 1.0 if b <= sl else 0.0
        md = 0
        rm = np.inf
        cap = np.inf
        if b > sl and mode == 1:
            b = np.inf
        elif b > sl and mode == 2:
            b = max(sl, b_team)
    vv = 0.0
    if not target_only and np.isfinite(b):
        vv = value_kept(q.periods, q.decay, at.scratch, a, a_cal, p, bn.j, b, ci, bn.th, sl, md, bn.flat and comp == 0)
    return cc, vv, b, ci, cap, rm


@numba.njit(cache=True, inline="always")
def _in_bin(q, at, bn, comp, comply, value, target_only):
    """Compliance and value of the MQLs of one in-hours bin (``comp`` 1: stranded)."""
    r, t, p, j = at.r, at.touches, bn.p, bn.j
    n = q.bins.inn[r.k, p, j, 0]
    nf = q.bins.inn[r.k, p, j, 1]
    wgt = (1.0 - r.p_str) if comp == 0 else r.p_str
    middle_only = bn.flat or comp == 1  # no backlog, or a stranded lead (a small share)
    cmp_sum = 0.0
    val_sum = 0.0
    for i in range(3):
        if middle_only and i != 1:
            continue
        cc, vv, b, ci, cap, rm = _place(q, at, bn, comp, i, target_only)
        if i == 1:
            t.in_b[p, j, comp] = b
            t.in_c[p, j, comp] = ci
            t.in_th[p, j, comp] = bn.th
            t.in_cap[p, j, comp] = cap
            t.in_rm[p, j, comp] = rm
        wi = 1.0 if middle_only else _SIMPSON[i]
        cmp_sum += wi * cc
        val_sum += wi * vv
    comply += wgt * (n - nf) * cmp_sum
    served = n if q.staff.mode != 1 else n - nf  # recycled before anyone could start
    value += wgt * served * val_sum
    t.in_w[p, j, comp] = wgt * served
    return comply, value


@numba.njit(cache=True, inline="always")
def _day(q, at, p, x_open, x0, comply, value, target_only):
    """The working day of period ``p``, bin by bin: the fluid from ``x0`` (the batch done,
    ``x_open`` before it); returns the backlog at the close and the sums."""
    r = at.r
    inn = q.bins.inn
    J = inn.shape[2]
    n_batch = x0 - x_open
    x_sys = x0
    w = q.periods.pl[p] / J
    arrived = 0.0
    for j in range(J):
        n = inn[r.k, p, j, 0]
        lr = at.smooth[p] * at.profile[q.periods.pday[p], j]  # the in-hours arrival rate, noise averaged out
        # the fluid also takes bursts: arrivals beyond two Poisson deviations of that rate
        expect = lr * w
        lm = lr + max(0.0, n - expect - _BURST * math.sqrt(expect)) / w
        # in MQLs' worth of work: the first touches, and the follow-ups due in the bin
        f_in = q.bins.fu[r.k, p, j] * r.mu / w if r.unit < 1.0 else 0.0
        lr = lr * r.unit + f_in
        lm = lm * r.unit + f_in
        x_mid = evolve(x_sys, lm, r.mu, r.c_eff, 0.5 * w)
        x_end = evolve(x_mid, lm, r.mu, r.c_eff, 0.5 * w)
        if n > 0:
            nf = inn[r.k, p, j, 1]
            sl = inn[r.k, p, j, 2] / (n - nf) if n > nf else 0.0
            n_comp, cw, th = random_wait(q.staff.pooled, q.tables, r, at.mix, lr, min(x_mid, r.c_eff))
            flat = x_end <= r.c_eff and x_sys <= r.c_eff and x_mid <= r.c_eff
            bn = _Bin(p, j, w, x_sys, x_mid, x_end, sl, n_comp, cw, th, flat, lm, x_open + n_batch + arrived)
            for comp in range(r.comps):
                comply, value = _in_bin(q, at, bn, comp, comply, value, target_only)
        arrived += lm * w
        x_sys = x_end if q.staff.mode != 1 else min(x_end, r.x_cap)
    return x_sys, comply, value


@numba.njit(cache=True, _nrt=False)
def _cdf(n_arr, omega, t_grid, t, comps, gi):
    """Number of MQLs touched within ``t_grid[gi]`` of their handoff (``t`` a ``_Touches``)."""
    tg = t_grid[gi]
    total = 0.0
    for p in range(n_arr):
        for g in range(t.off_t.shape[1]):
            for comp in range(comps):
                wgt = t.off_w[p, g, comp]
                if wgt <= 0.0:
                    continue
                share = 0.0
                for seg in range(2):
                    ta = t.off_t[p, g, comp, seg]
                    tb = t.off_t[p, g, comp, seg + 1]
                    lo = min(ta, tb)
                    hi = max(ta, tb)
                    if tg >= hi:
                        share += 0.5
                    elif tg > lo:
                        if np.isfinite(hi):
                            share += 0.5 * (tg - lo) / (hi - lo)
                        else:
                            share += 0.25
                total += wgt * share
        for j in range(t.in_w.shape[1]):
            om = omega[p, j, gi]
            for comp in range(comps):
                wgt = t.in_w[p, j, comp]
                if wgt <= 0.0:
                    continue
                if om >= t.in_cap[p, j, comp]:
                    total += wgt
                    continue
                b = t.in_b[p, j, comp]
                lim = min(om, t.in_rm[p, j, comp])
                if lim >= b:
                    total += wgt * (1.0 - t.in_c[p, j, comp] * math.exp(-t.in_th[p, j, comp] * (lim - b)))
    return total


@numba.njit(cache=True, _nrt=False)
def _response_quantiles(q, at, quantiles, out_q):
    """Response-time quantiles of the mixture over all bins into ``out_q`` (inf where more
    than that share is never touched), interpolated on the grid."""
    n_total = q.bins.mqls[at.r.k]
    n_arr, comps, t = q.periods.n_arr, at.r.comps, at.touches
    omega, t_grid = q.grid.omega, q.grid.t_grid
    T = t_grid.shape[0]
    for iq in range(quantiles.shape[0]):
        goal = quantiles[iq] * n_total
        lo = 0
        hi = T - 1
        f_hi = _cdf(n_arr, omega, t_grid, t, comps, hi)
        if f_hi < goal * (1.0 - 1e-12):
            out_q[iq] = np.inf
            continue
        f_lo = _cdf(n_arr, omega, t_grid, t, comps, 0)
        if f_lo >= goal:
            out_q[iq] = 0.0
            continue
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            fm = _cdf(n_arr, omega, t_grid, t, comps, mid)
            if fm >= goal:
                hi = mid
                f_hi = fm
            else:
                lo = mid
                f_lo = fm
        frac = (goal - f_lo) / (f_hi - f_lo) if f_hi > f_lo else 1.0
        out_q[iq] = t_grid[lo] + frac * (t_grid[hi] - t_grid[lo])


@numba.njit(cache=True, _nrt=False)
def _period(q, at, p, x_sys, comply, value, target_only):
    """Period ``p``: the batch at its opening behind the backlog ``x_sys``, then its working
    day; returns the backlog at its close and the sums."""
    if at.r.unit < 1.0:  # follow-ups due overnight go first
        x_sys += q.bins.fu[at.r.k, p, q.bins.fu.shape[2] - 1] * at.r.mu
    x0, comply, value = _batch(q, at, p, x_sys, comply, value, target_only)
    return _day(q, at, p, x_sys, x0, comply, value, target_only)


@numba.njit(cache=True)
def _threshold(q, k, c, target_only, quantiles, out_q):
    """Compliance and value sums of threshold ``k`` at team size ``c``; quantiles into ``out_q``."""
    if q.bins.mqls[k] <= 0:
        for i in range(quantiles.shape[0]):
            out_q[i] = np.nan
        return 0.0, 0.0
    at = _case(q, k, c)
    comply = 0.0
    value = 0.0
    x_sys = 0.0
    for p in range(q.periods.n_arr):
        x_sys, comply, value = _period(q, at, p, x_sys, comply, value, target_only)
    if quantiles.shape[0] > 0 and not target_only:
        _response_quantiles(q, at, quantiles, out_q)
    return comply, value


@numba.njit(cache=True, nogil=True)
def _every_other(q, ks, cs, first, step, target_only, quantiles, comply, value, out_q):
    """Thresholds ``first, first + step, ..`` of the pairs ``(ks, cs)`` into the outputs."""
    for i in range(first, ks.shape[0], step):
        comply[i], value[i] = _threshold(q, ks[i], cs[i], target_only, quantiles, out_q[i])


def all_thresholds(q: Queue, ks: np.ndarray, cs: np.ndarray, target_only: bool, quantiles: np.ndarray):
    """Compliance sums, value sums and response-time quantiles (minutes) of thresholds
    ``ks[i]`` at team sizes ``cs[i]``, the pairs shared out over numba's threads."""
    n = ks.shape[0]
    comply = np.zeros(n)
    value = np.zeros(n)
    out_q = np.zeros((n, quantiles.shape[0]))
    threads = thread_count(n)

    def part(first: int) -> None:
        _every_other(q, ks, cs, first, threads, target_only, quantiles, comply, value, out_q)

    in_threads(part, threads)
    return comply, value, out_q
