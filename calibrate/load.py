"""The SLA load of each candidate MQL threshold: a fast analytic model, checked by simulation.

For every threshold ``T`` the MQLs are the leads with ``score >= T``, handed to sales at
``handoff_min``. :func:`analytic_load` answers in milliseconds what the sales team's queue
does with them (utilisation, SLA compliance, response times, the share of the leads' value
kept after waiting, and the team size needed to meet the SLA target);
:func:`simulated_load` runs the same MQLs through the queue engine
(:func:`simulate.serve_queue`) over many seeds; :func:`compare_load` puts both side by side
and says which one to trust. :func:`work_per_mql` gives the rep time one MQL costs.

The analytic model
------------------
Plain Erlang C says a 24-hour SLA is easy for almost any team in steady state. What binds is
the night and weekend backlog, the follow-up attempts and the value lost in the first
minutes, so the model runs the queue in the working time of the team calendar:

* **Work.** Every MQL brings its whole work, first touch plus follow-ups
  (:func:`work_per_mql`: mean ``m``, squared coefficient of variation ``cv2``; with
  per-lead contact rates, the mean over each threshold's MQLs), served at ``mu = 1 / m``
  per rep. Shrinkage ``s`` leaves ``c_eff = c (1 - s)`` reps on average.
* **Time grid.** The team calendar is cut into working periods (days). A lead handed off
  outside working hours waits, exactly in calendar time, until the next opening; the
  off-hours gap before each period is cut into 8 bins and the period into 8 bins of
  working time. Everything per lead that does not depend on the threshold (its period and
  bin, its calendar delay to the opening, its SLA slack in team working minutes from the
  exact deadline of ``SLA.deadlines``, whether that deadline falls before it can be
  started at all) is computed once, in one compiled pass; each lead adds itself to the
  bins of the highest threshold it passes, and a sum from the top gives every threshold's
  bins at once. Per threshold only these bins are visited (the work no longer grows with
  the leads).
* **Fluid backlog.** ``X``, the MQLs in the system, follows a fluid: the off-hours MQLs
  form a batch at the opening behind the carried-over backlog; the batch place ``x``
  (0-based) starts after ``(x + 1 - c_eff)+ / (c_eff mu)`` working minutes (round robin:
  ``(x - (c - 1) / 2)+ / (c mu (1 - s_m))``, ``s_m`` the share of a working day lost to
  meetings). During the day ``dX/du = lambda - mu min(X, c_eff)`` (closed form per bin),
  with ``lambda`` the in-hours arrival rate: the period's rate averaged over three working
  periods either side times the bin's share of the day over the whole history, plus any
  burst beyond two Poisson deviations of that (the Poisson noise itself is left to the
  random part below, which already accounts for it). The backlog left at a close is
  carried to the next opening; when the load exceeds the capacity it grows over the days,
  and so do the waits.
* **Random part.** An in-hours MQL waits for the fluid backlog ahead of it, ``B = (X -
  c_eff)+ / (c_eff mu)``, then a random wait ``Wq`` with ``P(Wq > t) = sum_i p_i exp(-theta_i
  t)``. Pooled: for each number ``k`` of reps at work (binomial with ``1 - s``, at most 8
  nodes), Erlang C with the Allen-Cunneen factor ``f = (1 + cv2) / 2`` on the waiting time,
  ``theta = (k mu - lambda) / f``; a number that cannot keep up waits about half a meeting.
  Round robin: a rep gets every ``c``-th first touch and the follow-ups of his own leads,
  so his arrivals have ``ca2 = share_ft / c + (1 - share_ft)`` (``share_ft`` the first
  touch's share of the work), taken as Erlang-``1/ca2`` spaced in a GI/M/1 queue (the chance
  to wait is the root ``sigma`` of ``sigma = (k r / (k r + 1 - sigma))^k`` at per-rep load
  ``r``, the mean wait scaled by ``(ca2 + cv2) / (ca2 + 1)``); a rep in a meeting adds half a
  meeting; a rep on leave for the day (chance ``s * leave_day_share``) strands his leads
  until his next working day. The chance to wait is taken at the load ``max(lambda / mu,
  X)``: right after a backlog every rep is still busy. A load at or past the capacity
  keeps the random part of 98% (the fluid carries the rest).
* **SLA.** A lead meets the SLA when its wait in team working minutes is within its
  slack: ``P(B + Wq <= slack) = 1 - sum_i p_i exp(-theta_i (slack - B))``, 0 when ``B >
  slack`` or the deadline falls before the first possible start; a batch place meets it
  when its fluid wait does.
* **Value kept.** ``connect_decay(t) * qualify_decay(t)`` is a sum of exponentials
  ``sum_q w_q exp(-k_q t)`` (products of the phases). For the random part, matched to one
  exponential ``(C, theta)`` by its chance to wait and mean, the closed form
  ``E[exp(-k Wq)] = 1 - C k / (theta + k)`` is used (for plain Erlang C this is ``1 -
  C(N, A) k / ((N - A) mu + k)``), split at the close so that a wait that runs into the
  night costs the night; batch leads keep ``exp(-k (delay to opening + their place))`` in
  calendar time. Breach actions: ``recycle`` removes a lead at its deadline (value 0, no
  response, and no work: the fluid holds at most what the team can start within the mean
  slack), ``reassign`` (round robin) hands it to the rep who can take it first (at the
  deadline, or when the team's backlog lets him); ``escalate`` is treated as none.
* **Response times.** Calendar hours to the first touch: quantiles of the mixture over all
  bins (inf where more than that share is never touched), on a grid of 160 times.
* **Team size.** ``reps_needed`` is the smallest team (same calendars and shrinkage) whose
  compliance reaches ``SLA.target``; the model's compliance never falls as reps are added.

Checked against the simulation (``tests/test_load.py``, which allows 0.02): SLA compliance
within 0.01 on steady always-open queues at 30% to 95% load and on the default team
(weekday calendars, holidays, shrinkage, round robin, six attempts, reassign) from 16% to
82% utilisation; value kept within 0.02. Known limits, which the simulation does not have: it assumes
first-in-first-out (``highest_score`` and ``newest`` are simulated only); follow-ups are
charged to the first touch rather than spread over the cadence, so near and past the
capacity it is too pessimistic (at 98% utilisation of the default team it says 0.17 where
the simulation says 0.32); ``followups_first=False`` is not modelled; a roster of
different calendars is treated as its union with the average number of reps at work, which
under round robin is far too kind to the waits (a lead waits for its own rep's hours:
with two reps in New York and two in Berlin the simulation keeps 0.44 of the value where
the model says 0.57).
Where the two disagree, trust the simulation (:func:`compare_load`).
"""

from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from simulate.calendar import to_working_time
from simulate.funnel import Funnel, answering_attempt
from simulate.queue import serve_queue
from simulate.team import SLA, Rep, Team

__all__ = [
    "LOAD_COLUMNS",
    "analytic_load",
    "compare_load",
    "simulated_load",
    "work_per_mql",
]

PAD_DAYS = 45
"""The queue runs this many days past the history, so late MQLs still get touched."""

LOAD_COLUMNS = (
    "threshold",
    "mqls",
    "mqls_per_month",
    "utilisation",
    "stable",
    "sla_compliance",
    "median_response_hours",
    "p90_response_hours",
    "value_kept",
    "reps_needed",
)
"""Columns of :func:`analytic_load` (and, after ``seed``, of :func:`simulated_load`)."""

_OFF_BINS = 8  # bins of the off-hours gap before each working period
_IN_BINS = 8  # bins of each working period
_SMOOTH = 3  # in-hours rates are averaged over this many working periods either side
_BURST = 2.0  # in-hours arrivals beyond this many Poisson deviations of the smoothed rate are a burst
_RHO_CAP = 0.98  # the random wait of a load at or past capacity is that of this load
_RHO_GRID = 513  # grid of per-server load for the Erlang C and round-robin tables
_T_GRID = 160  # grid of response times for the quantiles
_DAYS_PER_MONTH = 365.25 / 12

# --------------------------------------------------------------------------------------
# Work per MQL
# --------------------------------------------------------------------------------------


def _attempt_pmf(
    attempts: int, contact_rate: np.ndarray, bad_data_share: np.ndarray, attempt_connect_share: float
) -> np.ndarray:
    """``(..., attempts)`` chance of making exactly ``1 .. attempts`` contact attempts."""
    k = np.arange(1, attempts + 1)
    pa = attempt_connect_share
    if pa < 1:
        geo = pa * (1 - pa) ** (k - 1)
        geo = geo / geo.sum()  # answers at attempt K, truncated to the cadence
    else:
        geo = (k == 1).astype(float)
    last = (k == attempts).astype(float)
    first = (k == 1).astype(float)
    good = 1.0 - bad_data_share[..., None]
    reach = contact_rate[..., None]
    return good * (reach * geo + (1 - reach) * last) + bad_data_share[..., None] * first


def _probability(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ValueError(f"{name} must be in [0, 1], got {x!r}" if a.ndim == 0 else f"{name} must be in [0, 1]")
    return a


def _work_moments(team: Team, contact_rate, bad_data_share, attempt_connect_share):
    """``E[X]`` and ``E[X^2]`` of the total work ``X`` of one MQL (broadcast)."""
    contact = _probability(contact_rate, "contact_rate")
    bad = _probability(bad_data_share, "bad_data_share")
    pa = float(attempt_connect_share)
    if not 0 < pa <= 1:
        raise ValueError(f"attempt_connect_share must be in (0, 1], got {attempt_connect_share!r}")
    contact, bad = np.broadcast_arrays(contact, bad)
    pmf = _attempt_pmf(team.attempts, contact, bad, pa)
    extra = np.arange(team.attempts)  # follow-ups = attempts - 1
    e1 = (pmf * extra).sum(-1)
    e2 = (pmf * extra**2).sum(-1)
    ft, fu = team.first_touch, team.follow_up
    mf = ft.mean_minutes
    vf = ft.median_minutes**2 * np.exp(ft.spread**2) * np.expm1(ft.spread**2)
    mu_ = fu.mean_minutes
    vu = fu.median_minutes**2 * np.exp(fu.spread**2) * np.expm1(fu.spread**2)
    mean = mf + e1 * mu_
    var = vf + e1 * vu + (e2 - e1**2) * mu_**2
    return mean, var + mean**2


def work_per_mql(
    team: Team,
    *,
    contact_rate: float | ArrayLike,
    bad_data_share: float | ArrayLike = 0.0,
    attempt_connect_share: float = 0.4,
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Mean rep minutes one MQL costs, first touch and follow-ups, and their squared CV.

    The attempts ``A`` follow the cadence as in :mod:`simulate.funnel`: a lead with bad data
    (chance ``bad_data_share``) takes one attempt; of the others, a reachable one (chance
    ``contact_rate``) answers at attempt ``K``, truncated geometric on ``1 ..
    team.attempts`` with ``attempt_connect_share`` per attempt; an unreachable one uses
    all ``team.attempts``. With the first touch ``F`` and the follow-ups ``U_j`` drawn
    from ``team.first_touch`` and ``team.follow_up`` (log-normal), the work is ``X = F +
    U_1 + ... + U_{A-1}`` and

    ``E[X] = E[F] + E[A - 1] E[U]``,
    ``Var[X] = Var[F] + E[A - 1] Var[U] + Var[A - 1] E[U]^2``,
    ``cv2 = Var[X] / E[X]^2``.

    Parameters
    ----------
    team : simulate.Team
        Its durations, ``attempts`` and cadence.
    contact_rate : float or array_like
        Chance that a lead with good data answers at some attempt, in [0, 1] (per lead if an
        array).
    bad_data_share : float or array_like
        Chance of bad contact data, in [0, 1].
    attempt_connect_share : float
        Chance that a reachable lead answers at each attempt, in (0, 1].

    Returns
    -------
    (mean_minutes, cv2)
        Floats, or arrays of the broadcast shape of the rates.

    Examples
    --------
    >>> from simulate import Team
    >>> m, cv2 = work_per_mql(Team(), contact_rate=0.0)  # everyone gets six attempts
    >>> print(f"{m:.1f} {cv2:.3f}")
    44.1 0.055
    >>> m, cv2 = work_per_mql(Team(attempts=1, cadence_days=()), contact_rate=0.5)
    >>> print(f"{m:.2f} {cv2:.3f}")  # the first touch alone: log-normal, cv2 = exp(0.25) - 1
    17.00 0.284
    """
    mean, second = _work_moments(team, contact_rate, bad_data_share, attempt_connect_share)
    cv2 = second / mean**2 - 1.0
    if np.ndim(mean) == 0:
        return float(mean), float(cv2)
    return mean, cv2


# --------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------


def _inputs(score, handoff_min, thresholds, *, days, start):
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ValueError(f"start must be a datetime.date, got {start!r}")
    if isinstance(days, bool) or not isinstance(days, int | np.integer) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    try:
        s = np.asarray(score, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("score must be numeric") from None
    try:
        h = np.asarray(handoff_min, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("handoff_min must be numeric") from None
    if s.ndim != 1:
        raise ValueError(f"score must be one-dimensional, got shape {s.shape}")
    if h.shape != s.shape:
        raise ValueError(f"handoff_min must have the length of score ({s.size}), got shape {h.shape}")
    if np.isinf(s).any():
        raise ValueError("score must be finite (nan marks a lead without a score: never an MQL)")
    if not np.isfinite(h).all():
        raise ValueError("handoff_min must be finite")
    if h.size and (h.min() < 0 or h.max() >= days * 1440.0):
        raise ValueError(
            f"handoff_min must lie in [0, days * 1440) = [0, {days * 1440:g}) minutes, got [{h.min():g}, {h.max():g}]"
        )
    try:
        t = np.asarray(thresholds, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("thresholds must be numeric") from None
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"thresholds must be a non-empty one-dimensional sequence, got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("thresholds must be finite")
    return s, h, t


def _rep_sizes(reps, team: Team) -> np.ndarray | None:
    if reps is None:
        return None
    r = np.atleast_1d(np.asarray(reps))
    if r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer) or (r < 1).any():
        raise ValueError(f"reps must be a sequence of team sizes >= 1, got {reps!r}")
    return np.unique(r.astype(np.int64))


def _team_of_size(team: Team, size: int) -> Team:
    """The same team with ``size`` reps (a roster is repeated in order to grow)."""
    if not team.roster:
        return dataclasses.replace(team, reps=int(size))
    roster = tuple(
        Rep(
            name=f"{team.roster[i % len(team.roster)].name}~{i // len(team.roster)}"
            if i >= len(team.roster)
            else team.roster[i].name,
            calendar=team.roster[i % len(team.roster)].calendar,
        )
        for i in range(size)
    )
    return dataclasses.replace(team, roster=roster, reps=int(size))


# --------------------------------------------------------------------------------------
# The analytic model: threshold-independent preparation
# --------------------------------------------------------------------------------------


def _merge(iv: np.ndarray) -> np.ndarray:
    iv = iv[np.argsort(iv[:, 0], kind="stable")]
    if len(iv) == 0:
        return iv.reshape(0, 2)
    run_close = np.maximum.accumulate(iv[:, 1])
    new = np.ones(len(iv), dtype=bool)
    new[1:] = iv[1:, 0] > run_close[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(iv)) - 1
    return np.column_stack([iv[starts, 0], run_close[ends]])


def _cut_days(iv: np.ndarray) -> np.ndarray:
    """Cut intervals longer than a day into 1440-minute pieces (ALWAYS_OPEN gets days)."""
    length = iv[:, 1] - iv[:, 0]
    pieces = np.maximum(np.ceil(length / 1440.0 - 1e-12), 1).astype(np.int64)
    row = np.repeat(np.arange(len(iv)), pieces)
    k = np.arange(len(row)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    lo = iv[row, 0] + 1440.0 * k
    hi = np.minimum(lo + 1440.0, iv[row, 1])
    return np.column_stack([lo, hi])


def _team_hours(team: Team, start: dt.date, horizon_days: int) -> tuple[np.ndarray, float]:
    """The team's working intervals (union of the reps') and the share of reps at work in them."""
    calendars = team.calendars
    if all(c == calendars[0] for c in calendars):
        return calendars[0].intervals(start, horizon_days), 1.0
    each = [c.intervals(start, horizon_days) for c in calendars]
    union = _merge(np.concatenate(each))
    rep_minutes = sum(float((iv[:, 1] - iv[:, 0]).sum()) for iv in each)
    union_minutes = float((union[:, 1] - union[:, 0]).sum())
    return union, rep_minutes / (len(calendars) * union_minutes)


def _decay_terms(funnel: Funnel):
    """``connect_decay(t) * qualify_decay(t) = sum_q w_q exp(-k_q t)`` over distinct ``k_q``.

    Returns ``w``, ``k``, the distinct single-curve rates ``rates`` (connect's, then
    qualify's) and ``pair`` (2, Q): ``k_q = rates[pair[0, q]] + rates[pair[1, q]]``, so that
    ``exp(-k_q t)`` is a product of one exponential per single-curve rate (four in all for
    the default curves instead of eight).
    """
    connect = [float(k) for _, k in funnel.connect_decay.rates_per_minute]
    qualify = [float(k) for _, k in funnel.qualify_decay.rates_per_minute]
    uc = sorted(set(connect))
    uq = sorted(set(qualify))
    rates = np.array(uc + uq)
    terms: dict[float, float] = {}
    pairs: dict[float, tuple[int, int]] = {}
    for w1, k1 in funnel.connect_decay.rates_per_minute:
        for w2, k2 in funnel.qualify_decay.rates_per_minute:
            key = round(float(k1 + k2), 15)
            terms[key] = terms.get(key, 0.0) + float(w1 * w2)
            pairs.setdefault(key, (uc.index(float(k1)), len(uc) + uq.index(float(k2))))
    ks = np.array(sorted(terms))
    pair = np.array([pairs[k] for k in ks], dtype=np.int64).T.copy()
    return np.array([terms[k] for k in ks]), ks, rates, pair


@numba.njit(cache=True)
def _decay_exps(t, rates, pair, buf, out):
    """``out[q] = exp(-k_q t)`` from one exponential per single-curve rate."""
    for i in range(rates.shape[0]):
        buf[i] = math.exp(-rates[i] * t) if rates[i] > 0.0 else 1.0
    for q in range(pair.shape[1]):
        out[q] = buf[pair[0, q]] * buf[pair[1, q]]


@dataclass(frozen=True)
class _Prepared:
    """Everything about the leads and calendars that no threshold changes."""

    thresholds: np.ndarray  # sorted distinct
    po: np.ndarray  # period openings (calendar minutes)
    pl: np.ndarray  # period lengths
    pw: np.ndarray  # team working minutes before each opening
    pgap: np.ndarray  # off-hours gap before each period
    n_arr: int  # periods that receive arrivals
    off: np.ndarray  # (L, n_arr, G, 3 + Q) per threshold, period, off-hours bin: MQLs, of them
    #                  failing for sure, their slack sum, and sums of exp(-k_q * delay to opening)
    inn: np.ndarray  # (L, n_arr, J, 3) per in-hours bin: MQLs, failing for sure, slack sum
    never: np.ndarray  # (L,) MQLs after the last working period
    mqls: np.ndarray  # (L,)
    work_mean: np.ndarray  # (L,)
    work_cv2: np.ndarray  # (L,)
    dec_w: np.ndarray
    dec_k: np.ndarray
    late: np.ndarray  # (P, Q) exp(-k_q * off-hours gap after each period)
    rates: np.ndarray  # the single-curve decay rates (see _decay_terms)
    pair: np.ndarray
    rest_exp: np.ndarray  # (n_arr, J, Q) exp(-k_q * rest of the period after a bin's middle)
    half_exp: np.ndarray  # (n_arr, J, Q) exp(-k_q * half a bin)
    omega: np.ndarray  # (n_arr, J, T) working minutes within t_grid of each in-hours bin's middle
    t_grid: np.ndarray
    history_minutes: float  # team working minutes in the history
    coverage: float


@numba.njit(cache=True, inline="always")
def _last_le(a, x):
    """Largest ``i`` with ``a[i] <= x`` (-1 if none)."""
    lo = 0
    hi = a.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    return lo - 1


@numba.njit(cache=True)
def _day_index(opens, closes, n_days):
    """For each day ``d``: the first interval closing after ``d * 1440`` (a start for scans)."""
    out = np.empty(n_days + 1, dtype=np.int64)
    i = 0
    for d in range(n_days + 1):
        t = d * 1440.0
        while i < closes.shape[0] and closes[i] <= t:
            i += 1
        out[d] = i
    return out


@numba.njit(cache=True)
def _aggregate_chunk(
    lo,
    hi,
    score,
    handoff,
    thr,
    po,
    pl,
    pw,
    day_p,
    sla_open,
    sla_len,
    sla_cum,
    sla_total,
    day_s,
    calendar_clock,
    sla_minutes,
    e1,
    e2,
    rates,
    pair,
    off,
    inn,
    vec,
):
    """Leads ``lo .. hi`` into the accumulators ``off``, ``inn`` and ``vec`` (never, MQLs, work
    sums per threshold); returns the last period that serves one of them."""
    P = po.shape[0]
    S = sla_open.shape[0]
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
        k = _last_le(thr, sc)
        h = handoff[i]
        vec[1, k] += 1.0
        vec[2, k] += e1[i] if per_lead else e1[0]
        vec[3, k] += e2[i] if per_lead else e2[0]
        d = min(int(h / 1440.0), n_days)
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
        # the deadline, as SLA.deadlines computes it
        if calendar_clock:
            dl = h + sla_minutes
        else:
            j = day_s[d] - 1  # last SLA interval opening at or before h
            while j + 1 < S and sla_open[j + 1] <= h:
                j += 1
            wt = 0.0 if j < 0 else sla_cum[j] + min(h - sla_open[j], sla_len[j])
            w = wt + sla_minutes
            if w > sla_total:
                dl = np.inf
            else:
                j = max(j, 0)
                while j + 1 < S and sla_cum[j + 1] < w:
                    j += 1
                while j > 0 and sla_cum[j] >= w:
                    j -= 1
                dl = sla_open[j] + (w - sla_cum[j])
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
            _decay_exps(po[p] - h, rates, pair, buf, ex)
            for q in range(Q):
                cell[3 + q] += ex[q]
        cell[0] += 1.0
        if fail:
            cell[1] += 1.0
        else:
            cell[2] += slack
    return last


@numba.njit(cache=True, parallel=True)
def _aggregate(
    score,
    handoff,
    thr,
    po,
    pl,
    pw,
    day_p,
    sla_open,
    sla_len,
    sla_cum,
    sla_total,
    day_s,
    calendar_clock,
    sla_minutes,
    e1,
    e2,
    rates,
    pair,
    G,
    J,
    chunks,
):
    """Classify every lead once and add it to the bins of the highest threshold it passes.

    Per lead: the working period that first serves it, in or out of hours, its bin, its
    deadline exactly as ``SLA.deadlines`` (``add_working_minutes`` on the SLA calendar, or
    the calendar clock), its slack in team working minutes from its first possible start,
    and (off hours) ``exp(-k_q * delay to the opening)``. Calendar look-ups start from a
    per-day index and scan forward, so each lead costs O(1). ``chunks`` parts of the leads
    run in parallel into their own accumulators, added up at the end.
    """
    L = thr.shape[0]
    P = po.shape[0]
    Q = pair.shape[1]
    n = score.shape[0]
    offs = np.zeros((chunks, L, P, G, 3 + Q))  # per bin: MQLs, failing for sure, slack, decay sums
    inns = np.zeros((chunks, L, P, J, 3))
    vecs = np.zeros((chunks, 4, L))
    lasts = np.zeros(chunks, dtype=np.int64)
    for c in numba.prange(chunks):
        lasts[c] = _aggregate_chunk(
            n * c // chunks,
            n * (c + 1) // chunks,
            score,
            handoff,
            thr,
            po,
            pl,
            pw,
            day_p,
            sla_open,
            sla_len,
            sla_cum,
            sla_total,
            day_s,
            calendar_clock,
            sla_minutes,
            e1,
            e2,
            rates,
            pair,
            offs[c],
            inns[c],
            vecs[c],
        )
    n_arr = max(lasts.max() + 1, 1)
    off = np.zeros((L, n_arr, G, 3 + Q))
    inn = np.zeros((L, n_arr, J, 3))
    vec = np.zeros((4, L))
    # add the chunks up, then each threshold's MQLs are those of every threshold at or above
    # its index: sums from the top
    for k in numba.prange(L):
        for c in range(chunks):
            off[k] += offs[c, k, :n_arr]
            inn[k] += inns[c, k, :n_arr]
    for c in range(chunks):
        vec += vecs[c]
    for k in range(L - 2, -1, -1):
        vec[:, k] += vec[:, k + 1]
        off[k] += off[k + 1]
        inn[k] += inn[k + 1]
    return off, inn, vec[0].copy(), vec[1].copy(), vec[2].copy(), vec[3].copy(), n_arr


def _prepare(score, handoff, thresholds, *, team, sla, funnel, start, days, contact_rate, bad_data_share):
    horizon = days + PAD_DAYS
    iv, coverage = _team_hours(team, start, horizon)
    if len(iv) == 0:
        raise ValueError("team calendars have no working time in the history")
    periods = _cut_days(iv)
    po, pe = periods[:, 0].copy(), periods[:, 1].copy()
    pl = pe - po
    pw = np.concatenate([[0.0], np.cumsum(pl)[:-1]])
    prev_close = np.concatenate([[0.0], pe[:-1]])
    pgap = po - prev_close

    thr = np.unique(thresholds)
    contact = _probability(contact_rate, "contact_rate")
    bad = _probability(bad_data_share, "bad_data_share")
    for name, a in (("contact_rate", contact), ("bad_data_share", bad)):
        if a.ndim and a.shape != score.shape:
            raise ValueError(f"{name} must be a scalar or have the length of score ({score.size})")
    e1, e2 = _work_moments(team, contact, bad, funnel.attempt_connect_share)
    e1 = np.atleast_1d(np.asarray(e1, dtype=float))
    e2 = np.atleast_1d(np.asarray(e2, dtype=float))

    if sla.clock == "calendar":
        sla_iv = np.zeros((1, 2))
        sla_iv[0, 1] = 1.0
    else:
        sla_iv = sla.calendar.intervals(start, horizon)
        if len(sla_iv) == 0:
            raise ValueError("SLA.calendar has no working time in the history")
    sla_len = sla_iv[:, 1] - sla_iv[:, 0]
    sla_cum = np.concatenate([[0.0], np.cumsum(sla_len)])
    dec_w, dec_k, rates, pair = _decay_terms(funnel)
    day_p = _day_index(po, pe, horizon + 1)
    day_s = _day_index(sla_iv[:, 0], sla_iv[:, 0], horizon + 1)  # SLA intervals opening before each day
    agg = _aggregate(
        score,
        handoff,
        thr,
        po,
        pl,
        pw,
        day_p,
        sla_iv[:, 0].copy(),
        sla_len,
        sla_cum[:-1].copy(),
        float(sla_cum[-1]),
        day_s,
        sla.clock == "calendar",
        sla.hours * 60.0,
        e1,
        e2,
        rates,
        pair,
        _OFF_BINS,
        _IN_BINS,
        int(min(numba.get_num_threads(), 4)) if score.size > 100_000 else 1,
    )
    off, inn, never, mqls, s1, s2, n_arr = agg
    with np.errstate(invalid="ignore", divide="ignore"):
        m0, v0 = _work_moments(
            team, contact.mean() if contact.size else 0.0, bad.mean() if bad.size else 0.0, funnel.attempt_connect_share
        )
        work_mean = np.where(mqls > 0, s1 / mqls, m0)
        work_cv2 = np.where(mqls > 0, s2 / mqls / work_mean**2 - 1.0, v0 / m0**2 - 1.0)

    # response-time grid, and the working minutes within each grid time of every in-hours
    # bin's middle
    t_grid = np.concatenate([[0.0], np.geomspace(1.0, horizon * 1440.0, _T_GRID - 1)])
    mid = po[:n_arr, None] + (np.arange(_IN_BINS) + 0.5)[None, :] * pl[:n_arr, None] / _IN_BINS
    w_mid = to_working_time(periods, mid)
    omega = to_working_time(periods, mid[:, :, None] + t_grid[None, None, :]) - w_mid[:, :, None]

    with np.errstate(invalid="ignore"):  # after the last period: never touched
        late = np.nan_to_num(np.exp(-np.outer(np.append(pgap[1:], np.inf), dec_k)), nan=0.0)
    # exp(-k_q r) for the rest of the period after each in-hours bin's middle, and
    # exp(-k_q w / 2) for half a bin: the value of a bin without backlog needs no other
    width = pl[:n_arr] / _IN_BINS
    rest = pl[:n_arr, None] - (np.arange(_IN_BINS) + 0.5)[None, :] * width[:, None]
    rest_exp = np.exp(-rest[:, :, None] * dec_k[None, None, :])
    half_exp = np.broadcast_to(np.exp(-0.5 * width[:, None] * dec_k[None, :])[:, None, :], rest_exp.shape).copy()
    end = days * 1440.0
    history_minutes = float(np.clip(np.minimum(pe, end) - po, 0.0, None).sum())
    return _Prepared(
        thresholds=thr,
        po=po,
        pl=pl,
        pw=pw,
        pgap=pgap,
        n_arr=n_arr,
        off=off,
        inn=inn,
        never=never,
        mqls=mqls,
        work_mean=work_mean,
        work_cv2=work_cv2,
        dec_w=dec_w,
        dec_k=dec_k,
        omega=omega,
        late=late,
        rates=rates,
        pair=pair,
        rest_exp=rest_exp,
        half_exp=half_exp,
        t_grid=t_grid,
        history_minutes=history_minutes,
        coverage=coverage,
    )


# --------------------------------------------------------------------------------------
# Queueing tables
# --------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _erlang_c(k, rho):
    """Erlang C ``C(k, k rho)``, from ``1/B = sum_j k! / ((k - j)! A^j)`` summed until it
    settles (or until ``B`` is below 1e-18): a few hundred terms even for thousands of reps."""
    if rho <= 0.0:
        return 0.0
    a = k * rho
    total = 1.0
    term = 1.0
    for j in range(k):
        term *= (k - j) / a
        total += term
        if total > 1e18:
            return 0.0
        if term < 1e-17 * total:
            break
    b = 1.0 / total
    return b / (1.0 - rho * (1.0 - b))


@numba.njit(cache=True)
def _fill_erlang(table, rows):
    for r in rows:
        n = table.shape[1] - 1
        for i in range(n):
            table[r, i] = _erlang_c(r, i / n)
        table[r, n] = 1.0


@numba.njit(cache=True)
def _fill_round_robin(table, rows):
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
def _rep_nodes(c, sigma):
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


@numba.njit(cache=True)
def _lookup(table, k, rho):
    n = table.shape[1] - 1
    x = rho * n
    i = int(x)
    if i >= n:
        return 1.0
    f = x - i
    return table[k, i] * (1.0 - f) + table[k, i + 1] * f


# --------------------------------------------------------------------------------------
# The analytic model: one threshold at one team size
# --------------------------------------------------------------------------------------


@numba.njit(cache=True)
def _to_cal(w, pw, po, pl):
    """Calendar instant and period of team working time ``w`` (inf, P beyond the horizon)."""
    P = pw.shape[0]
    if w >= pw[P - 1] + pl[P - 1]:
        return np.inf, P
    lo = 0
    hi = P - 1
    while lo < hi:
        mid = (lo + hi + 1) >> 1
        if pw[mid] <= w:
            lo = mid
        else:
            hi = mid - 1
    return po[lo] + (w - pw[lo]), lo


@numba.njit(cache=True)
def _evolve(x, lam, mu, c_eff, dt):
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


@numba.njit(cache=True)
def _random_wait(
    lam, busy, mu, c, c_eff, f, cv2, pooled, node_k, node_w, erl, rr, m_s, half_meeting, ft_share, comp_p, comp_th
):
    """The random part of an in-hours MQL's wait: ``P(Wq > t) = sum_i p_i exp(-theta_i t)``.

    Fills ``comp_p``, ``comp_th`` and returns their count and ``(C, theta)`` of the one
    exponential with the same chance to wait and mean (used for the value and the response
    times; the SLA uses the mixture, whose tail never grows as reps are added). ``lam`` is
    the in-hours arrival rate, ``busy`` the fluid's MQLs in the system: the chance to wait
    is taken at the load ``max(lam / mu, busy)`` (right after a backlog every rep is still
    busy), the rates at ``lam``.
    """
    n = 0
    if lam <= 0.0:
        if pooled or m_s <= 0.0:
            return 0, 0.0, 1.0
        comp_p[0] = m_s
        comp_th[0] = 1.0 / half_meeting
        return 1, m_s, 1.0 / half_meeting
    # at or past the capacity the fluid backlog grows; the random part stays that of a
    # queue just below it
    lam = min(lam, _RHO_CAP * c_eff * mu)
    lam_c = min(max(lam, busy * mu), _RHO_CAP * c_eff * mu)
    p_wait = 0.0
    mean = 0.0
    if pooled:
        # the reps at work vary (leave, meetings): Erlang C with Allen-Cunneen per number
        # at work; a number that cannot keep up makes a lead wait about half a meeting
        for node in range(node_k.shape[0]):
            k = node_k[node]
            pk = node_w[node]
            if k * mu > lam_c:
                pw_k = pk * _lookup(erl, k, lam_c / (k * mu))
                th_k = (k * mu - lam) / f
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
        mu_r = mu * (1.0 - m_s)
        r = lam / c / mu_r
        r_c = lam_c / c / mu_r
        wq = 0.0
        mq = 0.0
        if r < 1.0 and r_c < 1.0:
            ca2 = ft_share / c + (1.0 - ft_share)
            kk = 1.0 / ca2
            k0 = int(kk)
            if k0 >= c:
                wq = _lookup(rr, c, r_c)
                w_own = _lookup(rr, c, r)
            else:
                fr = kk - k0
                wq = (1.0 - fr) * _lookup(rr, k0, r_c) + fr * _lookup(rr, k0 + 1, r_c)
                w_own = (1.0 - fr) * _lookup(rr, k0, r) + fr * _lookup(rr, k0 + 1, r)
            # given a wait, it is exponential at mu_r (1 - the root at the load itself)
            mq = 1.0 / (mu_r * (1.0 - w_own)) * (ca2 + cv2) / (ca2 + 1.0)
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


@numba.njit(cache=True)
def _value(a, a_cal, p, j, b, cw, th, s, mode, flat, pw, po, pl, late, dec_w, rates, pair, rest_exp, half_exp, scratch):
    """Expected ``connect_decay * qualify_decay`` of the calendar wait of a lead arriving at
    working time ``a`` (calendar ``a_cal``, period ``p``, bin ``j``) who waits ``b + Z``
    working minutes, ``Z = 0`` with chance ``1 - cw``, else exponential at rate ``th``.

    ``mode`` 0: no limit; 1: removed untouched once the wait would pass ``s`` (value 0);
    2: touched at ``s`` then (only with ``b <= s``). A wait running past the close costs
    the night (one gap; ``late[p, q] = exp(-k_q * gap after period p)``). With ``flat`` (no
    backlog: ``b = 0``, the arrival at the bin's middle) the arrival is spread uniformly
    over the bin: ``exp(-z r)`` is averaged over it in closed form, ``sinh(z h) / (z h)``
    for half a bin ``h``, from the precomputed ``rest_exp`` and ``half_exp``.
    """
    P = pw.shape[0]
    Q = dec_w.shape[0]
    x = s - b
    if mode == 1 and x < 0:
        return 0.0
    if a + b < pw[p] + pl[p]:  # started the same day
        land_cal = a_cal + b
        p2 = p
    else:
        land_cal, p2 = _to_cal(a + b, pw, po, pl)
        if p2 >= P:
            return 0.0
    buf = scratch[0]
    e_d = scratch[1]
    e_r = scratch[2]
    e_x = scratch[3]
    e_t = scratch[4]
    d0 = land_cal - a_cal
    if d0 > 0.0:
        _decay_exps(d0, rates, pair, buf, e_d)
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
        hw = 0.5 * pl[p] / rest_exp.shape[1]
        er_th = math.exp(-th * r)
        ep = math.exp(th * hw)
        em = 1.0 / ep
        for q in range(Q):
            z = th + (rates[pair[0, q]] + rates[pair[1, q]])
            y = z * hw
            h = half_exp[p, j, q]
            avg = (ep / h - em * h) / (2.0 * y) if y > 1e-4 else 1.0 + y * y / 6.0
            e_r[q] = er_th * rest_exp[p, j, q] * avg
    else:
        _decay_exps(r, rates, pair, buf, e_r)
        er_th = math.exp(-th * r)
        for q in range(Q):
            e_r[q] *= er_th
    ex_th = 0.0
    if mode != 0:
        ex_th = math.exp(-th * x)
        _decay_exps(x, rates, pair, buf, e_x)
        if mode == 2:
            dc, _ = _to_cal(a + s, pw, po, pl)
            if np.isfinite(dc):
                _decay_exps(dc - a_cal, rates, pair, buf, e_t)
            else:
                for q in range(Q):
                    e_t[q] = 0.0
    val = 0.0
    for q in range(Q):
        z = th + (rates[pair[0, q]] + rates[pair[1, q]])
        lt = late[p2, q]
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


@numba.njit(cache=True)
def _batch_wait(x, p, c, c_eff, mu, m_s, pooled, stranded, pl):
    """Working minutes from the opening of period ``p`` to the start of batch place ``x``."""
    if pooled:
        return max(0.0, x + 1.0 - c_eff) / (c_eff * mu)
    team = max(0.0, x - 0.5 * (c - 1)) / (c * mu * (1.0 - m_s))
    if stranded:
        return pl[p] + (x / c) / (mu * (1.0 - m_s))
    return team


@numba.njit(cache=True)
def _threshold(
    k,
    c,
    sigma,
    leave,
    pooled,
    mode,
    target_only,
    ft_mean,
    prep_po,
    prep_pl,
    prep_pw,
    pgap,
    n_arr,
    off,
    inn,
    never,
    mqls,
    work_mean,
    work_cv2,
    dec_w,
    dec_k,
    late,
    rates,
    pair,
    rest_exp,
    half_exp,
    omega,
    t_grid,
    coverage,
    erl,
    rr,
    quantiles,
    out_q,
):
    """Compliance and value sums of threshold ``k`` at team size ``c``; quantiles into ``out_q``."""
    po = prep_po
    pl = prep_pl
    pw = prep_pw
    G = off.shape[2]
    J = inn.shape[2]
    Q = dec_k.shape[0]
    T = t_grid.shape[0]
    n_total = mqls[k]
    if n_total <= 0:
        for i in range(quantiles.shape[0]):
            out_q[i] = np.nan
        return 0.0, 0.0
    m = work_mean[k]
    mu = 1.0 / m
    cv2 = work_cv2[k]
    f = 0.5 * (1.0 + cv2)
    ft_share = min(ft_mean / m, 1.0)
    c_eff = c * (1.0 - sigma) * coverage
    p_leave = sigma * leave
    m_s = sigma * (1.0 - leave) / (1.0 - p_leave) if p_leave < 1.0 else 0.0
    mean_len = 0.0
    for p in range(n_arr):
        mean_len += pl[p]
    mean_len /= max(n_arr, 1)
    half_meeting = 0.5 * (m_s if m_s > 0 else 1.0) * mean_len
    p_str = 0.0 if pooled else p_leave
    node_k, node_w = _rep_nodes(c, sigma)  # reps at work (pooled)
    scratch = np.zeros((5, max(Q, rates.shape[0])))
    comp_p = np.zeros(node_k.shape[0] + 2)
    comp_th = np.ones(node_k.shape[0] + 2)
    # in-hours arrival rates with the noise averaged out (the random part of the wait stands
    # for it): the period's rate over the working periods either side times the bin's
    # share of the day over the whole history
    day_n = np.zeros(n_arr)
    profile = np.zeros(J)
    for p in range(n_arr):
        for j in range(J):
            day_n[p] += inn[k, p, j, 0]
            profile[j] += inn[k, p, j, 0]
    tot = profile.sum()
    for j in range(J):
        profile[j] = profile[j] * J / tot if tot > 0 else 1.0
    smooth = np.zeros(n_arr)
    for p in range(n_arr):
        num = 0.0
        den = 0.0
        for p2 in range(max(0, p - _SMOOTH), min(n_arr, p + _SMOOTH + 1)):
            num += day_n[p2]
            den += pl[p2]
        smooth[p] = num / den if den > 0 else 0.0
    comps = 1 if p_str <= 0.0 else 2
    # recycling at the deadline: a lead that cannot be started within its slack leaves the
    # queue, so the fluid holds at most what the team can start within the mean slack
    x_cap = np.inf
    if mode == 1:
        slack_sum = 0.0
        slack_n = 0.0
        for p in range(n_arr):
            for g in range(G):
                slack_sum += off[k, p, g, 2]
                slack_n += off[k, p, g, 0] - off[k, p, g, 1]
            for j in range(J):
                slack_sum += inn[k, p, j, 2]
                slack_n += inn[k, p, j, 0] - inn[k, p, j, 1]
        if slack_n > 0:
            x_cap = c_eff + slack_sum / slack_n * c_eff * mu
    want_q = quantiles.shape[0] > 0 and not target_only
    # per-bin data for the response-time quantiles
    off_t = np.full((n_arr, G, 2, 3), np.inf)
    off_w = np.zeros((n_arr, G, 2))
    in_b = np.zeros((n_arr, J, 2))
    in_c = np.zeros((n_arr, J, 2))
    in_th = np.ones((n_arr, J, 2))
    in_cap = np.full((n_arr, J, 2), np.inf)
    in_rm = np.full((n_arr, J, 2), np.inf)
    in_w = np.zeros((n_arr, J, 2))
    comply = 0.0
    value = 0.0
    simpson = np.array([1.0 / 6.0, 4.0 / 6.0, 1.0 / 6.0])
    vals = np.zeros(Q)
    x_sys = 0.0
    for p in range(n_arr):
        # the batch of leads handed off since the last close, behind the carried backlog
        x0 = x_sys
        for g in range(G):
            n = off[k, p, g, 0]
            if n <= 0:
                continue
            nf = off[k, p, g, 1]
            s = off[k, p, g, 2] / (n - nf) if n > nf else 0.0
            width = pgap[p] / G
            d_hi = pgap[p] - g * width
            for comp in range(comps):
                wgt = (1.0 - p_str) if comp == 0 else p_str
                stranded = comp == 1
                # SLA: the places x0 .. x0 + n - 1 whose wait is within the slack
                if pooled:
                    x_ok = s * c_eff * mu + c_eff - 1.0
                elif stranded:
                    x_ok = (s - pl[p]) * mu * (1.0 - m_s) * c
                else:
                    x_ok = s * c * mu * (1.0 - m_s) + 0.5 * (c - 1)
                ok = min(max(x_ok - x0 + 0.5, 0.0), n) / n
                comply += wgt * (n - nf) * ok
                # value and response times at the first, middle and last place
                if not target_only:
                    for q in range(Q):
                        vals[q] = 0.0
                    few = n <= 2.0 or stranded  # one or two leads, or a small share: the middle will do
                    for i in range(3):
                        if few and i != 1:
                            continue
                        x = x0 + 0.5 * i * (n - 1)
                        b = _batch_wait(x, p, c, c_eff, mu, m_s, pooled, stranded, pl)
                        d = d_hi - (0.5 * i * (n - 1) + 0.5) / n * width
                        if b > s and mode == 1:
                            continue  # recycled untouched at its deadline
                        if b > s and mode == 2:  # reassigned: as soon as the team gets to it
                            b = max(s, _batch_wait(x, p, c, c_eff, mu, m_s, pooled, False, pl))
                        if b < pl[p]:
                            tcal = b  # started the same day
                        else:
                            tc, _ = _to_cal(pw[p] + b, pw, po, pl)
                            tcal = tc - po[p]
                        off_t[p, g, comp, i] = d + tcal
                        if few:
                            off_t[p, g, comp, 0] = d + tcal
                            off_t[p, g, comp, 2] = d + tcal
                        if np.isfinite(tcal):
                            wi = 1.0 if few else simpson[i]
                            _decay_exps(tcal, rates, pair, scratch[0], scratch[1])
                            for q in range(Q):
                                vals[q] += wi * scratch[1][q]
                    # recycled leads whose deadline passes before the opening keep nothing (their
                    # delays are taken as those of the bin's others)
                    keep = 1.0 if mode != 1 else (n - nf) / n
                    for q in range(Q):
                        value += wgt * keep * dec_w[q] * off[k, p, g, 3 + q] * vals[q]
                    off_w[p, g, comp] = wgt * n * keep
            x0 += n if mode != 1 else n - nf  # recycled untouched: no work
            if mode == 1:
                x0 = min(x0, x_cap)
        x_open = x_sys
        n_batch = x0 - x_sys
        x_sys = x0
        # the working day, bin by bin
        w = pl[p] / J
        arrived = 0.0
        for j in range(J):
            n = inn[k, p, j, 0]
            lr = smooth[p] * profile[j]  # the in-hours arrival rate, noise averaged out
            # the fluid also takes bursts: arrivals beyond two Poisson deviations of that rate
            expect = lr * w
            lm = lr + max(0.0, n - expect - _BURST * math.sqrt(expect)) / w
            x_mid = _evolve(x_sys, lm, mu, c_eff, 0.5 * w)
            x_end = _evolve(x_mid, lm, mu, c_eff, 0.5 * w)
            if n > 0:
                nf = inn[k, p, j, 1]
                s = inn[k, p, j, 2] / (n - nf) if n > nf else 0.0
                n_comp, cw, th = _random_wait(
                    lr,
                    min(x_mid, c_eff),
                    mu,
                    c,
                    c_eff,
                    f,
                    cv2,
                    pooled,
                    node_k,
                    node_w,
                    erl,
                    rr,
                    m_s,
                    half_meeting,
                    ft_share,
                    comp_p,
                    comp_th,
                )
                flat = x_end <= c_eff and x_sys <= c_eff and x_mid <= c_eff  # no backlog in the bin
                for comp in range(comps):
                    wgt = (1.0 - p_str) if comp == 0 else p_str
                    cmp_sum = 0.0
                    val_sum = 0.0
                    for i in range(3):
                        if (flat or comp == 1) and i != 1:
                            continue  # no backlog, or a stranded lead (a small share): the middle will do
                        u = (j + 0.5 * i) * w
                        a = pw[p] + u
                        a_cal = po[p] + u
                        xi = x_sys if i == 0 else (x_mid if i == 1 else x_end)
                        b_team = max(0.0, xi - c_eff) / (c_eff * mu)
                        if comp == 0:
                            # the backlog ahead, then the random wait: W = B + Wq (after a
                            # backlog every rep is still busy, so the wait goes on)
                            b = b_team
                            ci = cw
                            cc = 0.0
                            if b <= s:
                                cc = 1.0
                                for ic in range(n_comp):
                                    cc -= comp_p[ic] * math.exp(-comp_th[ic] * (s - b))
                            md = mode if (mode != 2 or b <= s) else 0
                            rm = s if mode == 1 else np.inf
                            cap = s if md == 2 else np.inf
                        else:
                            # his rep is on leave: he waits for the next working day
                            ahead = x_open + n_batch + arrived + lm * 0.5 * i * w
                            b = (pl[p] - u) + (ahead / c) / (mu * (1.0 - m_s))
                            ci = 0.0
                            cc = 1.0 if b <= s else 0.0
                            md = 0
                            rm = np.inf
                            cap = np.inf
                            if b > s and mode == 1:
                                b = np.inf
                            elif b > s and mode == 2:
                                b = max(s, b_team)
                        vv = 0.0
                        if not target_only and np.isfinite(b):
                            vv = _value(
                                a,
                                a_cal,
                                p,
                                j,
                                b,
                                ci,
                                th,
                                s,
                                md,
                                flat and comp == 0,
                                pw,
                                po,
                                pl,
                                late,
                                dec_w,
                                rates,
                                pair,
                                rest_exp,
                                half_exp,
                                scratch,
                            )
                        if i == 1:
                            in_b[p, j, comp] = b
                            in_c[p, j, comp] = ci
                            in_th[p, j, comp] = th
                            in_cap[p, j, comp] = cap
                            in_rm[p, j, comp] = rm
                        wi = 1.0 if (flat or comp == 1) else simpson[i]
                        cmp_sum += wi * cc
                        val_sum += wi * vv
                    comply += wgt * (n - nf) * cmp_sum
                    served = n if mode != 1 else n - nf  # recycled before anyone could start
                    value += wgt * served * val_sum
                    in_w[p, j, comp] = wgt * served
            arrived += lm * w
            x_sys = x_end if mode != 1 else min(x_end, x_cap)
    if not want_q:
        return comply, value
    # response-time quantiles of the mixture over all bins
    for iq in range(quantiles.shape[0]):
        goal = quantiles[iq] * n_total
        lo = 0
        hi = T - 1
        f_hi = _cdf(hi, n_arr, G, J, comps, off_t, off_w, in_b, in_c, in_th, in_cap, in_rm, in_w, omega, t_grid)
        if f_hi < goal * (1.0 - 1e-12):
            out_q[iq] = np.inf
            continue
        f_lo = _cdf(0, n_arr, G, J, comps, off_t, off_w, in_b, in_c, in_th, in_cap, in_rm, in_w, omega, t_grid)
        if f_lo >= goal:
            out_q[iq] = 0.0
            continue
        while hi - lo > 1:
            mid = (lo + hi) >> 1
            fm = _cdf(mid, n_arr, G, J, comps, off_t, off_w, in_b, in_c, in_th, in_cap, in_rm, in_w, omega, t_grid)
            if fm >= goal:
                hi = mid
                f_hi = fm
            else:
                lo = mid
                f_lo = fm
        frac = (goal - f_lo) / (f_hi - f_lo) if f_hi > f_lo else 1.0
        out_q[iq] = t_grid[lo] + frac * (t_grid[hi] - t_grid[lo])
    return comply, value


@numba.njit(cache=True)
def _cdf(gi, n_arr, G, J, comps, off_t, off_w, in_b, in_c, in_th, in_cap, in_rm, in_w, omega, t_grid):
    """Number of MQLs touched within ``t_grid[gi]`` of their handoff."""
    t = t_grid[gi]
    total = 0.0
    for p in range(n_arr):
        for g in range(G):
            for comp in range(comps):
                wgt = off_w[p, g, comp]
                if wgt <= 0.0:
                    continue
                share = 0.0
                for seg in range(2):
                    ta = off_t[p, g, comp, seg]
                    tb = off_t[p, g, comp, seg + 1]
                    lo = min(ta, tb)
                    hi = max(ta, tb)
                    if t >= hi:
                        share += 0.5
                    elif t > lo:
                        if np.isfinite(hi):
                            share += 0.5 * (t - lo) / (hi - lo)
                        else:
                            share += 0.25
                total += wgt * share
        for j in range(J):
            om = omega[p, j, gi]
            for comp in range(comps):
                wgt = in_w[p, j, comp]
                if wgt <= 0.0:
                    continue
                if om >= in_cap[p, j, comp]:
                    total += wgt
                    continue
                b = in_b[p, j, comp]
                lim = min(om, in_rm[p, j, comp])
                if lim >= b:
                    total += wgt * (1.0 - in_c[p, j, comp] * math.exp(-in_th[p, j, comp] * (lim - b)))
    return total


@numba.njit(parallel=True, cache=True)
def _all_thresholds(
    ks,
    cs,
    sigma,
    leave,
    pooled,
    mode,
    target_only,
    ft_mean,
    po,
    pl,
    pw,
    pgap,
    n_arr,
    off,
    inn,
    never,
    mqls,
    work_mean,
    work_cv2,
    dec_w,
    dec_k,
    late,
    rates,
    pair,
    rest_exp,
    half_exp,
    omega,
    t_grid,
    coverage,
    erl,
    rr,
    quantiles,
):
    n = ks.shape[0]
    comply = np.zeros(n)
    value = np.zeros(n)
    out_q = np.zeros((n, quantiles.shape[0]))
    for i in numba.prange(n):
        comply[i], value[i] = _threshold(
            ks[i],
            cs[i],
            sigma,
            leave,
            pooled,
            mode,
            target_only,
            ft_mean,
            po,
            pl,
            pw,
            pgap,
            n_arr,
            off,
            inn,
            never,
            mqls,
            work_mean,
            work_cv2,
            dec_w,
            dec_k,
            late,
            rates,
            pair,
            rest_exp,
            half_exp,
            omega,
            t_grid,
            coverage,
            erl,
            rr,
            quantiles,
            out_q[i],
        )
    return comply, value, out_q


class _Model:
    """The prepared leads plus the queueing tables, evaluated at any team sizes."""

    def __init__(self, prep: _Prepared, team: Team, sla: SLA):
        self.prep = prep
        self.team = team
        self.sigma = float(team.shrinkage)
        self.leave = float(team.leave_day_share)
        self.pooled = team.routing == "pooled"
        breach = sla.breach
        if breach == "recycle":
            self.mode = 1
        elif breach == "reassign" and not self.pooled:
            self.mode = 2
        else:
            self.mode = 0
        self.erl = np.ones((2, _RHO_GRID))
        self.rr = np.ones((2, _RHO_GRID))
        self.erl_done = np.zeros(2, dtype=bool)
        self.rr_done = np.zeros(2, dtype=bool)

    def _tables(self, cs: np.ndarray, ks: np.ndarray) -> None:
        """Fill the table rows that team sizes ``cs`` will look up (thresholds ``ks``)."""
        if self.pooled:
            rows = np.unique(np.concatenate([_rep_nodes(int(c), self.sigma)[0] for c in np.unique(cs)]))
            self.erl, self.erl_done = self._grow(self.erl, self.erl_done, rows, _fill_erlang)
        else:
            share = np.minimum(self.team.first_touch.mean_minutes / self.prep.work_mean[ks], 1.0)
            kk = 1.0 / (share / cs + 1.0 - share)
            top = np.minimum(np.floor(kk).astype(np.int64) + 1, cs)
            rows = np.unique(np.concatenate([np.arange(1, int(top.max()) + 1), cs[kk >= cs]]))
            self.rr, self.rr_done = self._grow(self.rr, self.rr_done, rows, _fill_round_robin)

    @staticmethod
    def _grow(table, done, rows, fill):
        rows = rows[rows >= 1]
        if rows.size and rows.max() >= table.shape[0]:
            size = int(max(rows.max() + 1, 2 * table.shape[0]))
            bigger = np.ones((size, table.shape[1]))
            bigger[: table.shape[0]] = table
            grown = np.zeros(size, dtype=bool)
            grown[: done.size] = done
            table, done = bigger, grown
        todo = rows[~done[rows]]
        if todo.size:
            fill(table, todo.astype(np.int64))
            done[todo] = True
        return table, done

    def evaluate(self, ks: np.ndarray, cs: np.ndarray, *, target_only: bool = False):
        p = self.prep
        ks = ks.astype(np.int64)
        cs = cs.astype(np.int64)
        self._tables(cs, ks)
        quantiles = np.array([0.5, 0.9]) if not target_only else np.zeros(0)
        return _all_thresholds(
            ks,
            cs,
            self.sigma,
            self.leave,
            self.pooled,
            self.mode,
            target_only,
            self.team.first_touch.mean_minutes,
            p.po,
            p.pl,
            p.pw,
            p.pgap,
            p.n_arr,
            p.off,
            p.inn,
            p.never,
            p.mqls,
            p.work_mean,
            p.work_cv2,
            p.dec_w,
            p.dec_k,
            p.late,
            p.rates,
            p.pair,
            p.rest_exp,
            p.half_exp,
            p.omega,
            p.t_grid,
            p.coverage,
            self.erl,
            self.rr,
            quantiles,
        )

    def compliance(self, ks: np.ndarray, cs: np.ndarray) -> np.ndarray:
        comply, _, _ = self.evaluate(ks, cs, target_only=True)
        n = self.prep.mqls[ks]
        return np.where(n > 0, comply / np.maximum(n, 1), np.nan)

    def _bisect(self, ks, lo, hi, target, sizes=None):
        """Smallest passing size in ``(lo, hi]`` (``hi`` passes, ``lo`` fails), per threshold;
        positions into ``sizes`` when given, else team sizes."""
        lo, hi = lo.copy(), hi.copy()
        while True:
            todo = np.flatnonzero(hi - lo > 1)
            if todo.size == 0:
                return hi
            mid = (lo[todo] + hi[todo]) // 2
            ok = self.compliance(ks[todo], mid if sizes is None else sizes[mid]) >= target
            hi[todo[ok]] = mid[ok]
            lo[todo[~ok]] = mid[~ok]

    def reps_needed(self, target: float, sizes: np.ndarray | None, current: np.ndarray) -> np.ndarray:
        """Smallest team size per threshold with compliance >= target (-1: no size does).

        ``current`` is the compliance at the team's own size. Without ``sizes`` the search
        starts, for every threshold, at the team that would run at the utilisation up to
        which the team as it is meets the target (the night backlog makes that share
        roughly the same at any scale), and follows the secant to the answer (see
        ``_search``); a threshold that a team four times its offered work (at least 40
        reps more) still cannot serve within the SLA (say, a calendar-clock SLA that lapses
        before the team opens) gets -1.
        """
        p = self.prep
        out = np.where(p.mqls > 0, -1, 0)
        live = np.flatnonzero(p.mqls > 0)
        if live.size == 0:
            return out
        if sizes is not None:
            top = self.compliance(live, np.full(live.size, sizes[-1])) >= target
            found = live[top]
            pos = self._bisect(found, np.full(found.size, -1), np.full(found.size, sizes.size - 1), target, sizes)
            out[found] = sizes[pos]
            return out
        size = self.team.size
        cover = (1.0 - self.sigma) * p.coverage
        load = p.mqls * p.work_mean / max(p.history_minutes, 1e-9) / cover  # reps' worth of work
        # the team as it is shows up to which utilisation the target holds (the overnight
        # backlog makes that share roughly the same at any scale): start every threshold there
        load = load[live]
        util_now = load / size
        okay = current[live] >= target
        order = np.argsort(util_now)
        failing = np.flatnonzero(~okay[order])
        meets = failing[0] if failing.size else order.size  # the lowest utilisations that all meet it
        u_star = float(np.clip(util_now[order[meets - 1]] if meets else 0.5, 0.05, 0.95))
        guess = np.maximum(np.ceil(load / u_star).astype(np.int64), 1)
        cap = np.maximum(np.maximum(4 * np.ceil(load).astype(np.int64), guess + 40), 2 * guess)
        out[live] = self._search(live, guess, cap, target)
        return out

    def _search(self, live, guess, cap, target):
        """Smallest team size in ``1 .. cap`` meeting the target per threshold (-1 if none):
        the secant through the last two sizes tried, kept inside the bracket once there is
        one and alternating with bisection there, so that each step at least halves it."""
        m = live.size
        lo = np.zeros(m, dtype=np.int64)  # largest size known to fail (0 reps always fail)
        hi = cap + 1  # smallest size known to pass (cap + 1: none known)
        f_lo = np.zeros(m)
        f_hi = np.ones(m)
        prev_c = np.zeros(m, dtype=np.int64)
        prev_f = np.zeros(m)
        trial = np.clip(guess, 1, cap)
        turn = np.zeros(m, dtype=np.int64)
        todo = np.arange(m)
        while todo.size:
            got = self.compliance(live[todo], trial[todo])
            ok = got >= target
            t = trial[todo]
            hi[todo[ok]], f_hi[todo[ok]] = t[ok], got[ok]
            lo[todo[~ok]], f_lo[todo[~ok]] = t[~ok], got[~ok]
            pc, pf = prev_c[todo], prev_f[todo]
            prev_c[todo], prev_f[todo] = t, got
            # next size: the secant through this try and the previous one
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = (got - pf) / (t - pc)
                secant = t + (target - got) / slope
            first = pc == 0
            step = np.maximum(guess[todo] // 16, 1)
            secant = np.where(first | ~np.isfinite(secant) | (slope <= 0), np.where(ok, t - step, t + step), secant)
            nxt = np.where(ok, np.floor(secant), np.ceil(secant)).astype(np.int64)
            low, high = lo[todo], hi[todo]
            bracketed = high <= cap[todo]
            bisect = bracketed & (turn[todo] % 2 == 1)
            nxt = np.where(bisect, (low + high) // 2, nxt)
            # within the bracket; outside of one, at least double the distance each time
            far = np.where(ok, t - 2 * np.abs(t - pc), t + 2 * np.abs(t - pc))
            nxt = np.where(~bracketed & ~first & ~ok, np.maximum(nxt, far), nxt)
            nxt = np.clip(nxt, low + 1, np.minimum(high - 1, cap[todo]))
            turn[todo] += 1
            trial[todo] = nxt
            keep = (high - low > 1) & ~((high > cap[todo]) & (low >= cap[todo]))
            todo = todo[keep]
        return np.where(hi <= cap, hi, -1)


def analytic_load(
    score: ArrayLike,
    handoff_min: ArrayLike,
    thresholds: ArrayLike,
    *,
    team: Team,
    sla: SLA,
    funnel: Funnel,
    start: dt.date,
    days: int,
    contact_rate: float | ArrayLike = 0.68,
    bad_data_share: float | ArrayLike = 0.04,
    reps: Sequence[int] | None = None,
) -> pd.DataFrame:
    """The SLA load of every candidate threshold, from the analytic queue model.

    See the module docstring for the model.

    Parameters
    ----------
    score : array_like
        ``(n,)`` score of each lead (higher is better); the lead is an MQL under threshold
        ``T`` iff ``score >= T``. nan never qualifies.
    handoff_min : array_like
        ``(n,)`` minutes since ``start`` 00:00 UTC at which the lead would be handed to
        sales (its MQL moment, or its creation), in ``[0, days * 1440)``.
    thresholds : array_like
        Candidate thresholds (any order; one row each, sorted ascending).
    team, sla, funnel : simulate.Team, simulate.SLA, simulate.Funnel
        The team and its calendars, the SLA, and the response decay curves
        (``funnel.attempt_connect_share`` sets the cadence's answer rate).
    start : datetime.date
        The history's first day (minute 0).
    days : int
        Length of the history in days; the queue runs ``PAD_DAYS`` past it.
    contact_rate, bad_data_share : float or array_like
        Per lead or for all: chance that a lead with good data answers at some attempt, and
        chance of bad contact data (see :func:`work_per_mql`). The defaults are about what
        the default scenario's MQLs show (0.68 and 0.04).
    reps : sequence of int, optional
        Team sizes among which ``reps_needed`` is searched (-1 when none meets the target);
        default any size.

    Returns
    -------
    pandas.DataFrame
        One row per threshold with ``LOAD_COLUMNS``: ``mqls`` in the history and
        ``mqls_per_month``; ``utilisation``, the offered work over the team's capacity in
        the history (``stable`` is ``utilisation < 1``; above it the backlog grows over the
        history and compliance falls towards 0); ``sla_compliance``;
        ``median_response_hours`` and ``p90_response_hours`` (calendar hours from handoff
        to first touch, inf where more than that share is never touched); ``value_kept``,
        the mean over the MQLs of ``connect_decay(W) * qualify_decay(W)`` with ``W`` the
        calendar wait (0 if never touched); ``reps_needed``, the smallest team size (of
        ``reps`` if given) whose compliance reaches ``sla.target`` (0 without MQLs, -1 when
        no team size does: say a calendar-clock SLA that lapses before the team opens).

    Examples
    --------
    >>> import datetime, numpy as np
    >>> from simulate import SLA, Funnel, Team
    >>> rng = np.random.default_rng(0)
    >>> score = rng.integers(0, 100, 20_000)  # a year of leads handed off around the clock
    >>> handoff = np.sort(rng.random(20_000)) * 365 * 1440
    >>> table = analytic_load(score, handoff, [50, 70, 90], team=Team(), sla=SLA(),
    ...                       funnel=Funnel(), start=datetime.date(2026, 1, 1), days=365)
    >>> print(table[["threshold", "mqls", "utilisation", "sla_compliance", "value_kept",
    ...              "reps_needed"]].round(2).to_string(index=False))
     threshold  mqls  utilisation  sla_compliance  value_kept  reps_needed
          50.0 10017         0.82            0.73        0.32            6
          70.0  5978         0.49            0.92        0.40            4
          90.0  2007         0.16            0.94        0.44            2
    """
    s, h, t = _inputs(score, handoff_min, thresholds, days=days, start=start)
    sizes = _rep_sizes(reps, team)
    prep = _prepare(
        s,
        h,
        t,
        team=team,
        sla=sla,
        funnel=funnel,
        start=start,
        days=days,
        contact_rate=contact_rate,
        bad_data_share=bad_data_share,
    )
    model = _Model(prep, team, sla)
    L = prep.thresholds.size
    ks = np.arange(L)
    comply, value, q = model.evaluate(ks, np.full(L, team.size))
    n = prep.mqls
    capacity = team.size * (1.0 - team.shrinkage) * prep.coverage * prep.history_minutes
    util = n * prep.work_mean / capacity
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "threshold": prep.thresholds,
                "mqls": n.astype(np.int64),
                "mqls_per_month": n / (days / _DAYS_PER_MONTH),
                "utilisation": util,
                "stable": util < 1.0,
                "sla_compliance": np.where(n > 0, comply / np.maximum(n, 1), np.nan),
                "median_response_hours": q[:, 0] / 60.0,
                "p90_response_hours": q[:, 1] / 60.0,
                "value_kept": np.where(n > 0, value / np.maximum(n, 1), np.nan),
                "reps_needed": model.reps_needed(sla.target, sizes, comply / np.maximum(n, 1)),
            }
        )
    return table


# --------------------------------------------------------------------------------------
# Simulation
# --------------------------------------------------------------------------------------


def _seed_list(seeds) -> list[int]:
    if isinstance(seeds, bool):
        raise ValueError(f"seeds must be a count >= 1 or a sequence of seeds, got {seeds!r}")
    if isinstance(seeds, int | np.integer):
        if seeds < 1:
            raise ValueError(f"seeds must be a count >= 1 or a sequence of seeds, got {seeds!r}")
        return list(range(int(seeds)))
    try:
        out = [int(x) for x in seeds]
    except (TypeError, ValueError):
        raise ValueError(f"seeds must be a count >= 1 or a sequence of integer seeds, got {seeds!r}") from None
    if not out:
        raise ValueError("seeds must name at least one seed")
    return out


def _quantiles(wait: np.ndarray, qs=(0.5, 0.9)) -> list[float]:
    """Linear-interpolation quantiles (as ``numpy.quantile``) where never-touched leads
    count as inf: inf as soon as an inf takes part."""
    n = wait.size
    if n == 0:
        return [np.nan for _ in qs]
    pos = [q * (n - 1) for q in qs]
    ranks = sorted({int(np.floor(x)) for x in pos} | {min(int(np.floor(x)) + 1, n - 1) for x in pos})
    part = np.partition(wait, ranks)
    out = []
    for x in pos:
        i = int(np.floor(x))
        frac = x - i
        a, b = part[i], part[min(i + 1, n - 1)]
        if not np.isfinite(a) or (frac > 0 and not np.isfinite(b)):
            out.append(np.inf)
        else:
            out.append(float(a + frac * (b - a)))
    return out


@dataclass(frozen=True)
class _SimInputs:
    """What every seed of :func:`simulated_load` needs (leads sorted by handoff)."""

    score: np.ndarray
    handoff: np.ndarray
    deadline: np.ndarray
    contact: np.ndarray
    bad: np.ndarray
    thresholds: np.ndarray
    sizes: tuple[int, ...]
    team: Team
    sla: SLA
    funnel: Funnel
    start: dt.date
    days: int


def _simulate_seed(inp: _SimInputs, seed: int) -> list[dict]:
    """Every threshold (and team size) of one seed, with common random numbers."""
    team, sla, funnel = inp.team, inp.sla, inp.funnel
    n = inp.score.size
    cal_seq, draw_seq = np.random.SeedSequence(seed).spawn(2)
    u = np.random.default_rng(draw_seq).random((n, 5))
    a_max = team.attempts
    k_answer = answering_attempt(u[:, 2], attempts=a_max, attempt_connect_share=funnel.attempt_connect_share)
    bad = u[:, 0] < inp.bad
    reachable = u[:, 1] < inp.contact
    attempts = np.where(bad, 1, np.where(reachable, k_answer, a_max))
    work = team.first_touch.quantile(u[:, 3])
    follow = team.follow_up.quantile(u[:, 4])
    gaps = team.attempt_gap_minutes if a_max > 1 else None
    total_work = work + follow * (attempts - 1)
    connect, qualify = funnel.connect_decay, funnel.qualify_decay
    horizon = inp.days + PAD_DAYS
    end = inp.days * 1440.0
    rows = []
    desc = np.sort(inp.score)[::-1]
    for size in inp.sizes:
        team_c = _team_of_size(team, size)
        # a fresh copy of the calendar seed: the first reps keep their calendars at any size
        seq = np.random.SeedSequence(cal_seq.entropy, spawn_key=cal_seq.spawn_key)
        intervals = team_c.working_intervals(inp.start, horizon, rng=np.random.default_rng(seq))
        capacity = sum(float(np.clip(np.minimum(iv[:, 1], end) - iv[:, 0], 0.0, None).sum()) for iv in intervals)
        done: dict[int, dict] = {}
        for threshold in inp.thresholds:
            row = {"threshold": float(threshold), "seed": seed, "reps": size}
            count = int(np.searchsorted(-desc, -threshold, side="right"))  # MQLs: score >= threshold
            if count in done:  # the MQL sets are nested: the same count is the same set
                rows.append(done[count] | row)
                continue
            idx = np.flatnonzero(inp.score >= threshold)
            figures = {"mqls": idx.size}
            if idx.size == 0:
                figures |= {
                    "utilisation": 0.0,
                    "sla_compliance": np.nan,
                    "median_response_hours": np.nan,
                    "p90_response_hours": np.nan,
                    "value_kept": np.nan,
                }
            else:
                h = inp.handoff[idx]
                dl = inp.deadline[idx]
                res = serve_queue(
                    h,
                    work[idx],
                    rep_intervals=intervals,
                    routing=team.routing,
                    discipline=team.discipline,
                    score=inp.score[idx] if team.discipline == "highest_score" else None,
                    deadline_at=dl if sla.breach != "none" else None,
                    breach=sla.breach,
                    attempts=attempts[idx] if a_max > 1 else None,
                    attempt_gap_minutes=gaps,
                    attempt_minutes=follow[idx] if a_max > 1 else None,
                    followups_first=team.followups_first,
                )
                touch = res.first_touch_at
                touched = np.isfinite(touch)
                wait = np.where(touched, touch - h, np.inf)
                w0 = np.where(touched, wait, 0.0)
                kept = np.where(touched, connect(w0) * qualify(w0), 0.0)
                med, p90 = _quantiles(wait)
                figures |= {
                    "utilisation": float(total_work[idx].sum()) / capacity if capacity > 0 else np.inf,
                    "sla_compliance": float(np.count_nonzero(touch <= dl)) / idx.size,
                    "median_response_hours": med / 60.0,
                    "p90_response_hours": p90 / 60.0,
                    "value_kept": float(kept.mean()),
                }
            done[count] = figures
            rows.append(figures | row)
    return rows


def simulated_load(
    score: ArrayLike,
    handoff_min: ArrayLike,
    thresholds: ArrayLike,
    *,
    team: Team,
    sla: SLA,
    funnel: Funnel,
    start: dt.date,
    days: int,
    seeds: int | Sequence[int],
    contact_rate: float | ArrayLike = 0.68,
    bad_data_share: float | ArrayLike = 0.04,
    reps: Sequence[int] | None = None,
    executor: cf.Executor | None = None,
) -> pd.DataFrame:
    """The SLA load of every candidate threshold, simulated by the queue engine.

    For each seed, the team's shrunk calendars (``Team.working_intervals``) and each lead's
    draws (bad data, reachable, the attempt it answers at, its first-touch and follow-up
    minutes, drawn as in :mod:`simulate.funnel`) are made once and kept for every
    threshold (common random numbers: a lead keeps its draws whatever the threshold). The
    MQLs of each threshold then go through :func:`simulate.serve_queue` with the team's
    routing, discipline and cadence, the deadlines of ``SLA.deadlines`` and its breach
    action; the queue runs ``PAD_DAYS`` past the history. The MQL sets are nested, so
    thresholds with the same number of MQLs share one run.

    Parameters
    ----------
    score, handoff_min, thresholds, team, sla, funnel, start, days, contact_rate, bad_data_share
        As in :func:`analytic_load`.
    seeds : int or sequence of int
        A number of seeds (0, 1, ...) or the seeds. Seed ``s`` draws from
        ``numpy.random.SeedSequence(s)``; results do not depend on the executor.
    reps : sequence of int, optional
        Team sizes to simulate as well (the team with that many reps, a roster repeated in
        order); ``reps_needed`` is then the smallest of them whose compliance in that seed
        reaches ``SLA.target`` (-1 if none). Without it ``reps_needed`` is missing (NA).
    executor : concurrent.futures.Executor, optional
        Runs one task per seed (for example a ``ProcessPoolExecutor``); default: in this
        process, one seed after the other.

    Returns
    -------
    pandas.DataFrame
        One row per threshold and seed: ``threshold, seed`` and the other
        ``LOAD_COLUMNS``, for the team as given. ``utilisation`` is the drawn work of the
        MQLs over the reps' working minutes (after shrinkage) in the history; response
        hours count never-touched leads as inf.

    Examples
    --------
    >>> import datetime, numpy as np
    >>> from simulate import SLA, Funnel, Team
    >>> rng = np.random.default_rng(0)
    >>> score = rng.integers(0, 100, 20_000)
    >>> handoff = np.sort(rng.random(20_000)) * 365 * 1440
    >>> kw = dict(team=Team(), sla=SLA(), funnel=Funnel(), start=datetime.date(2026, 1, 1), days=365)
    >>> sim = simulated_load(score, handoff, [70, 90], seeds=3, **kw)
    >>> print(sim.groupby("threshold")[["sla_compliance", "value_kept"]].mean().round(2))
               sla_compliance  value_kept
    threshold
    70.0                 0.94        0.41
    90.0                 0.95        0.45
    >>> both = compare_load(analytic_load(score, handoff, [70, 90], **kw), sim)
    >>> print(both[["threshold", "trust", "sla_compliance_analytic",
    ...             "sla_compliance_simulated"]].round(2).to_string(index=False))
     threshold    trust  sla_compliance_analytic  sla_compliance_simulated
          70.0 analytic                     0.92                      0.94
          90.0 analytic                     0.94                      0.95
    """
    s, h, t = _inputs(score, handoff_min, thresholds, days=days, start=start)
    seed_list = _seed_list(seeds)
    sizes = _rep_sizes(reps, team)
    contact = _probability(contact_rate, "contact_rate")
    bad = _probability(bad_data_share, "bad_data_share")
    for name, a in (("contact_rate", contact), ("bad_data_share", bad)):
        if a.ndim and a.shape != s.shape:
            raise ValueError(f"{name} must be a scalar or have the length of score ({s.size})")
    order = np.argsort(h, kind="stable")
    h = h[order]
    s = np.nan_to_num(s[order], nan=-np.inf)
    contact = np.broadcast_to(contact, order.shape)[order] if contact.ndim else np.full(s.size, float(contact))
    bad = np.broadcast_to(bad, order.shape)[order] if bad.ndim else np.full(s.size, float(bad))
    all_sizes = (team.size,) if sizes is None else tuple(sorted({team.size, *sizes.tolist()}))
    inp = _SimInputs(
        score=s,
        handoff=h,
        deadline=sla.deadlines(h, start, days + PAD_DAYS),
        contact=contact,
        bad=bad,
        thresholds=np.unique(t),
        sizes=all_sizes,
        team=team,
        sla=sla,
        funnel=funnel,
        start=start,
        days=int(days),
    )
    if executor is None:
        rows = [r for seed in seed_list for r in _simulate_seed(inp, seed)]
    else:
        futures = [executor.submit(_simulate_seed, inp, seed) for seed in seed_list]
        rows = [r for fut in futures for r in fut.result()]
    frame = pd.DataFrame(rows)
    frame["stable"] = frame["utilisation"] < 1.0
    frame["mqls_per_month"] = frame["mqls"] / (days / _DAYS_PER_MONTH)
    if sizes is None:
        frame["reps_needed"] = pd.array([pd.NA] * len(frame), dtype="Int64")
    else:
        met = frame[frame["reps"].isin(sizes.tolist()) & (frame["sla_compliance"] >= sla.target)]
        need = met.groupby(["threshold", "seed"])["reps"].min()
        key = pd.MultiIndex.from_frame(frame[["threshold", "seed"]])
        frame["reps_needed"] = pd.array(need.reindex(key).fillna(-1).to_numpy(), dtype="Int64")
    frame = frame[frame["reps"] == team.size].drop(columns="reps")
    frame = frame.sort_values(["threshold", "seed"], kind="stable").reset_index(drop=True)
    return frame[["threshold", "seed", *LOAD_COLUMNS[1:]]]


_COMPARED = ("utilisation", "sla_compliance", "median_response_hours", "p90_response_hours", "value_kept")
_TOLERANCE = {
    "utilisation": 0.02,
    "sla_compliance": 0.01,
    "median_response_hours": 0.5,
    "p90_response_hours": 1.0,
    "value_kept": 0.01,
}


def compare_load(
    analytic: pd.DataFrame,
    simulated: pd.DataFrame,
    *,
    level: float = 0.9,
    tolerance: dict[str, float] | None = None,
) -> pd.DataFrame:
    """Analytic and simulated load side by side, and which one to trust per threshold.

    For each figure ``x`` of ``utilisation, sla_compliance, median_response_hours,
    p90_response_hours, value_kept`` the table has ``x_analytic``, ``x_simulated`` (mean
    over seeds), ``x_low`` and ``x_high`` (the central ``level`` interval of the seeds:
    where one year's outcome may fall) and ``x``: the analytic value where it lies within
    that interval widened by ``tolerance[x]`` (absolute; shares 0.01-0.02, hours 0.5-1),
    else the simulated mean. ``trust`` is ``"simulation"`` where SLA compliance or value
    kept disagree that way, else ``"analytic"`` (both agree and the fast model is fine).

    Parameters
    ----------
    analytic : DataFrame
        From :func:`analytic_load`.
    simulated : DataFrame
        From :func:`simulated_load` on the same leads and thresholds.
    level : float
        Width of the interval over seeds, in (0, 1).
    tolerance : dict, optional
        Absolute slack per figure added to the interval (defaults above).

    Returns
    -------
    pandas.DataFrame
        One row per threshold: ``threshold, mqls, stable, trust``, the columns above,
        ``reps_needed`` (analytic) and ``seeds``.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    for name, frame, needed in (
        ("analytic", analytic, LOAD_COLUMNS),
        ("simulated", simulated, ("threshold", "seed", *_COMPARED)),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"{name} must be a DataFrame")
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks the columns {missing}")
    tol = dict(_TOLERANCE)
    if tolerance:
        unknown = set(tolerance) - set(_COMPARED)
        if unknown:
            raise ValueError(f"tolerance names unknown figures {sorted(unknown)}; known: {list(_COMPARED)}")
        tol.update(tolerance)
    grouped = simulated.groupby("threshold")[list(_COMPARED)]
    lo_q, hi_q = (1 - level) / 2, (1 + level) / 2
    mean = grouped.mean()
    low = grouped.quantile(lo_q)
    high = grouped.quantile(hi_q)
    seeds = simulated.groupby("threshold")["seed"].nunique()
    a = analytic.set_index("threshold")
    common = a.index.intersection(mean.index)
    if len(common) == 0:
        raise ValueError("analytic and simulated share no threshold")
    out = pd.DataFrame(index=common)
    out["mqls"] = a.loc[common, "mqls"]
    out["stable"] = a.loc[common, "stable"]
    agree_all = {}
    for x in _COMPARED:
        av = a.loc[common, x].astype(float)
        lo, hi = low.loc[common, x], high.loc[common, x]
        with np.errstate(invalid="ignore"):
            agree = ((av >= lo - tol[x]) & (av <= hi + tol[x])) | (np.isinf(av) & np.isinf(hi) & (av == hi))
        agree_all[x] = agree
        out[f"{x}_analytic"] = av
        out[f"{x}_simulated"] = mean.loc[common, x]
        out[f"{x}_low"] = lo
        out[f"{x}_high"] = hi
        out[x] = np.where(agree, av, mean.loc[common, x])
    trust = agree_all["sla_compliance"] & agree_all["value_kept"]
    out.insert(2, "trust", np.where(trust, "analytic", "simulation"))
    out["reps_needed"] = a.loc[common, "reps_needed"]
    out["seeds"] = seeds.loc[common]
    return out.reset_index(names="threshold")
