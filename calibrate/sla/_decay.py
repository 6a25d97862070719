"""What a wait costs: the response decay of a lead's calendar wait, in closed form (numba).

``connect_decay(t) * qualify_decay(t) = sum_q w_q exp(-k_q t)`` with ``k_q = rates[pair[0, q]]
+ rates[pair[1, q]]`` (:class:`~calibrate.sla._structures.Decay`). The kernels take the team's
working periods as :class:`~calibrate.sla._structures.Periods` (``po`` openings, ``pl`` lengths,
``pw`` working minutes before each opening).
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True, _nrt=False)
def decay_exps(t, rates, pair, buf, out):
    """``out[q] = exp(-k_q t)`` from one exponential per single-curve rate."""
    for i in range(rates.shape[0]):
        buf[i] = math.exp(-rates[i] * t) if rates[i] > 0.0 else 1.0
    for q in range(pair.shape[1]):
        out[q] = buf[pair[0, q]] * buf[pair[1, q]]


@numba.njit(cache=True, _nrt=False)
def to_calendar(periods, w):
    """Calendar instant and period of team working time ``w`` (inf, P beyond the horizon)."""
    pw = periods.pw
    P = pw.shape[0]
    if w >= pw[P - 1] + periods.pl[P - 1]:
        return np.inf, P
    lo = 0
    hi = P - 1
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if pw[mid] <= w:
            lo = mid
        else:
            hi = mid - 1
    return periods.po[lo] + (w - pw[lo]), lo


@numba.njit(cache=True, _nrt=False)
def value_kept(periods, decay, scratch, a, a_cal, p, j, b, cw, th, s, mode, flat):
    """Expected ``connect_decay * qualify_decay`` of the calendar wait of a lead arriving at
    working time ``a`` (calendar ``a_cal``, period ``p``, bin ``j``) who waits ``b + Z``
    working minutes, ``Z = 0`` with chance ``1 - cw``, else exponential at rate ``th``.

    ``mode`` 0: no limit; 1: removed untouched once the wait would pass ``s`` (value 0);
    2: touched at ``s`` then (only with ``b <= s``). A wait running past the close costs
    the night (one gap; ``late[p, q] = exp(-k_q * gap after period p)``). With ``flat`` (no
    backlog: ``b = 0``, the arrival at the bin's middle) the arrival is spread uniformly
    over the bin: ``exp(-z r)`` is averaged over it in closed form, ``sinh(z h) / (z h)``
    for half a bin ``h``, from the precomputed ``rest_exp`` and ``half_exp``. ``scratch``
    is (5, Q) room for the exponentials.
    """
    pw, pl = periods.pw, periods.pl
    rates, pair, dec_w = decay.rates, decay.pair, decay.dec_w
    P = pw.shape[0]
    Q = dec_w.shape[0]
    x = s - b
    if mode == 1 and x < 0:
        return 0.0
    if a + b < pw[p] + pl[p]:  # started the same day
        land_cal = a_cal + b
        p2 = p
    else:
        land_cal, p2 = to_calendar(periods, a + b)
        if p2 >= P:
            return 0.0
    buf, e_d, e_r, e_x, e_t = scratch[0], scratch[1], scratch[2], scratch[3], scratch[4]
    d0 = land_cal - a_cal
    if d0 > 0.0:
        decay_exps(d0, rates, pair, buf, e_d)
    else:
        for q in range(Q):
            e_d[q] = 1.0
    if cw <= 0.0:
        val = 0.0
        for q in range(Q):
            val += dec_w[q] * e_d[q]
        return val
    r = pw[p2] + pl[p2] - (a + b)
    # exp(-z r), z = th + k_q, averaged over the bin when flat
    if flat:
        hw = 0.5 * pl[p] / decay.rest_exp.shape[1]
        er_th = math.exp(-th * r)
        ep = math.exp(th * hw)
        em = 1.0 / ep
        for q in range(Q):
            z = th + (rates[pair[0, q]] + rates[pair[1, q]])
            y = z * hw
            h = decay.half_exp[p, j, q]
            avg = (ep / h - em * h) / (2.0 * y) if y > 1e-4 else 1.0 + y * y / 6.0
            e_r[q] = er_th * decay.rest_exp[p, j, q] * avg
    else:
        decay_exps(r, rates, pair, buf, e_r)
        er_th = math.exp(-th * r)
        for q in range(Q):
            e_r[q] *= er_th
    ex_th = 0.0
    if mode != 0:
        ex_th = math.exp(-th * x)
        decay_exps(x, rates, pair, buf, e_x)
        if mode == 2:
            dc, _ = to_calendar(periods, a + s)
            if np.isfinite(dc):
                decay_exps(dc - a_cal, rates, pair, buf, e_t)
            else:
                for q in range(Q):
                    e_t[q] = 0.0
    val = 0.0
    for q in range(Q):
        z = th + (rates[pair[0, q]] + rates[pair[1, q]])
        lt = decay.late[p2, q]
        if mode == 0:
            part = (1.0 - cw) + cw * th / z * (1.0 - e_r[q] + e_r[q] * lt)
        else:
            ezx = ex_th * e_x[q]
            if x > r:
                part = (1.0 - cw) + cw * th / z * (1.0 - e_r[q]) + lt * cw * th / z * (e_r[q] - ezx)
            else:
                part = (1.0 - cw) + cw * th / z * (1.0 - ezx)
        v = e_d[q] * part
        if mode == 2:
            v += cw * ex_th * e_t[q]
        val += dec_w[q] * v
    return val
