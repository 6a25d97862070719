"""How long an MQL waits in the analytic model: queueing tables, the fluid and the random wait (numba).

At one threshold and team size the kernels read :class:`Rates` (scalars: the service rate,
the reps at work, meetings) and :class:`Mixture` (the reps-at-work nodes and room for the
random wait's mixture); the Erlang C and round-robin tables come as a
:class:`~calibrate.sla._structures.Tables`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from simulate.erlang import erlang_c_scalar

RHO_CAP = 0.98  # the random wait of a load at or past capacity is that of this load


class Rates(NamedTuple):
    """One threshold at one team size: what the waits depend on (scalars only)."""

    k: int  # the threshold's index
    c: int  # reps
    mu: float  # service rate per rep (per working minute)
    cv2: float  # squared CV of the work
    f: float  # Allen-Cunneen factor (1 + cv2) / 2
    ft_share: float  # the first touch's share of the work
    c_eff: float  # reps at work on average
    m_s: float  # share of a working day lost to meetings
    half_meeting: float  # working minutes of half a meeting
    p_str: float  # chance that a round-robin lead's rep is on leave for the day
    comps: int  # 1, or 2 with stranded leads
    x_cap: float  # most MQLs the fluid holds (recycling; else inf)
    unit: float  # a first touch in MQLs' worth of work (its share when follow-ups are their own load)
    slow: float  # 1 - the follow-ups' load: first touches drain at this share of the team's rate


class Mixture(NamedTuple):
    """The reps at work (pooled) as nodes, and room for the random wait's mixture."""

    node_k: np.ndarray  # reps at work
    node_w: np.ndarray  # their chances
    comp_p: np.ndarray  # P(Wq > t) = sum_i comp_p[i] exp(-comp_th[i] t)
    comp_th: np.ndarray


@numba.njit(cache=True)
def fill_erlang(table, rows):
    """Erlang C of ``r`` reps at loads ``0, 1 / n, .., 1`` into each row ``r``."""
    for r in rows:
        n = table.shape[1] - 1
        for i in range(n):
            table[r, i] = erlang_c_scalar(r, i / n)
        table[r, n] = 1.0


@numba.njit(cache=True)
def fill_round_robin(table, rows):
    """GI/M/1 chance to wait with Erlang-``c`` spaced arrivals: the root ``sigma`` of
    ``sigma = (c r / (c r + 1 - sigma))^c`` below 1, for each row ``c`` and load ``r``."""
    for c in rows:
        n = table.shape[1] - 1
        for i in range(n):
            r = i / n
            if c == 1 or r <= 0.0:
                table[c, i] = r
                continue
            lo = 0.0
            hi = 1.0
            for _ in range(50):
                s = 0.5 * (lo + hi)
                if s - (c * r / (c * r + 1.0 - s)) ** c < 0.0:
                    lo = s
                else:
                    hi = s
            table[c, i] = 0.5 * (lo + hi)
        table[c, n] = 1.0


@numba.njit(cache=True)
def rep_nodes(c, sigma):
    """Reps at work, binomial ``(c, 1 - sigma)``, as at most 8 nodes ``(k, weight)``."""
    if sigma <= 0.0:
        return np.array([c], dtype=np.int64), np.array([1.0])
    pmf = np.zeros(c + 1)
    lo = c + 1
    hi = -1
    for j in range(c + 1):
        v = math.exp(
            math.lgamma(c + 1)
            - math.lgamma(j + 1)
            - math.lgamma(c - j + 1)
            + j * math.log(1.0 - sigma)
            + (c - j) * math.log(sigma)
        )
        pmf[j] = v
        if v > 1e-10:
            lo = min(lo, j)
            hi = max(hi, j)
    span = hi - lo + 1
    groups = min(span, 8)
    ks = np.zeros(groups, dtype=np.int64)
    ws = np.zeros(groups)
    for g in range(groups):
        a = lo + (g * span) // groups
        b = lo + ((g + 1) * span) // groups
        w = 0.0
        m = 0.0
        for j in range(a, b):
            w += pmf[j]
            m += j * pmf[j]
        ws[g] = w
        ks[g] = int(m / w + 0.5) if w > 0 else a
    total = ws.sum()
    return ks, ws / total


@numba.njit(cache=True, _nrt=False)
def _lookup(table, k, rho):
    n = table.shape[1] - 1
    x = rho * n
    i = int(x)
    if i >= n:
        return 1.0
    f = x - i
    return table[k, i] * (1.0 - f) + table[k, i + 1] * f


@numba.njit(cache=True, _nrt=False)
def evolve(x, lam, mu, c_eff, dt):
    """Fluid MQLs in the system after ``dt`` working minutes: ``dX/du = lam - mu min(X, c_eff)``."""
    if dt <= 0.0:
        return x
    if x > c_eff:
        net = lam - c_eff * mu
        if net >= 0.0:
            return x + net * dt
        tau = (x - c_eff) / (-net)
        if tau >= dt:
            return x + net * dt
        x = c_eff
        dt -= tau
    a = lam / mu
    if a <= c_eff:
        return a + (x - a) * math.exp(-mu * dt)
    if x >= c_eff:
        return x + (lam - c_eff * mu) * dt
    tau = math.log((a - x) / (a - c_eff)) / mu
    if tau >= dt:
        return a + (x - a) * math.exp(-mu * dt)
    return c_eff + (lam - c_eff * mu) * (dt - tau)


@numba.njit(cache=True, _nrt=False)
def batch_wait(pooled, r, x, period_length, stranded):
    """Working minutes from a period's opening to the start of the first touch at batch
    place ``x`` (MQLs' worth of work ahead of it); follow-ups that come due meanwhile go
    first (``r.slow``)."""
    if pooled:
        return max(0.0, x + r.unit * (1.0 - r.c_eff)) / (r.c_eff * r.mu * r.slow)
    rate = r.mu * (1.0 - r.m_s) * r.slow
    if stranded:
        return period_length + (x / r.c) / rate
    return max(0.0, x - 0.5 * r.unit * (r.c - 1)) / (r.c * rate)


@numba.njit(cache=True, _nrt=False)
def random_wait(pooled, tables, r, mix, lam, busy):
    """The random part of an in-hours MQL's wait: ``P(Wq > t) = sum_i p_i exp(-theta_i t)``.

    Fills ``mix.comp_p``, ``mix.comp_th`` and returns their count and ``(C, theta)`` of the
    one exponential with the same chance to wait and mean (used for the value and the
    response times; the SLA uses the mixture, whose tail never grows as reps are added).
    ``lam`` is the in-hours arrival rate, ``busy`` the fluid's MQLs in the system: the
    chance to wait is taken at the load ``max(lam / mu, busy)`` (right after a backlog every
    rep is still busy), the rates at ``lam``.
    """
    mu, c, c_eff, m_s, half_meeting = r.mu, r.c, r.c_eff, r.m_s, r.half_meeting
    comp_p, comp_th = mix.comp_p, mix.comp_th
    n = 0
    if lam <= 0.0:
        if pooled or m_s <= 0.0:
            return 0, 0.0, 1.0
        comp_p[0] = m_s
        comp_th[0] = 1.0 / half_meeting
        return 1, m_s, 1.0 / half_meeting
    # at or past the capacity the fluid backlog grows; the random part stays that of a
    # queue just below it
    lam = min(lam, RHO_CAP * c_eff * mu)
    lam_c = min(max(lam, busy * mu), RHO_CAP * c_eff * mu)
    p_wait = 0.0
    mean = 0.0
    if pooled:
        # the reps at work vary (leave, meetings): Erlang C with Allen-Cunneen per number
        # at work; a number that cannot keep up makes a lead wait about half a meeting
        for node in range(mix.node_k.shape[0]):
            k = mix.node_k[node]
            pk = mix.node_w[node]
            if k * mu > lam_c:
                pw_k = pk * _lookup(tables.erl, k, lam_c / (k * mu))
                th_k = (k * mu - lam) / r.f
            else:
                pw_k = pk
                th_k = 1.0 / half_meeting
            if pw_k > 0.0:
                comp_p[n] = pw_k
                comp_th[n] = th_k
                n += 1
                p_wait += pw_k
                mean += pw_k / th_k
    else:
        # round robin: a rep gets every c-th first touch (Erlang-c spaced) and the follow-ups
        # of his own leads (about Poisson): arrivals with ca2 = ft_share / c + (1 - ft_share),
        # taken as Erlang-k spaced with k = 1 / ca2 in the GI/M/1 root; he serves at mu (1 - m_s)
        # over his working day, and is in a meeting for a share m_s of it
        rr = tables.rr
        mu_r = mu * (1.0 - m_s)
        rho = lam / c / mu_r
        rho_c = lam_c / c / mu_r
        wq = 0.0
        mq = 0.0
        if rho < 1.0 and rho_c < 1.0:
            ca2 = r.ft_share / c + (1.0 - r.ft_share)
            kk = 1.0 / ca2
            k0 = int(kk)
            if k0 >= c:
                wq = _lookup(rr, c, rho_c)
                w_own = _lookup(rr, c, rho)
            else:
                fr = kk - k0
                wq = (1.0 - fr) * _lookup(rr, k0, rho_c) + fr * _lookup(rr, k0 + 1, rho_c)
                w_own = (1.0 - fr) * _lookup(rr, k0, rho) + fr * _lookup(rr, k0 + 1, rho)
            # given a wait, it is exponential at mu_r (1 - the root at the load itself)
            mq = 1.0 / (mu_r * (1.0 - w_own)) * (ca2 + r.cv2) / (ca2 + 1.0)
        if wq > 0.0:
            comp_p[n] = (1.0 - m_s) * wq
            comp_th[n] = 1.0 / mq
            n += 1
        if m_s > 0.0:
            comp_p[n] = m_s
            comp_th[n] = 1.0 / (half_meeting + wq * mq)
            n += 1
        for i in range(n):
            p_wait += comp_p[i]
            mean += comp_p[i] / comp_th[i]
    if p_wait <= 0.0 or mean <= 0.0:
        return 0, 0.0, 1.0
    return n, p_wait, p_wait / mean
