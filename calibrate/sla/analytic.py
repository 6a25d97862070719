"""The analytic SLA load model: what the sales queue does with each threshold's MQLs.

For every threshold ``T`` the MQLs are the leads with ``score >= T``, handed to sales at
``handoff_min``. :func:`analytic_load` answers in milliseconds what the team's queue does with
them: utilisation, SLA compliance, response times, the share of the leads' value kept after
waiting, and the team size needed to meet the SLA target.

The model
---------
Plain Erlang C says a 24-hour SLA is easy for almost any team in steady state. What binds is
the night and weekend backlog, the follow-up attempts and the value lost in the first
minutes, so the model runs the queue in the working time of the team calendar:

* **Work.** An MQL's work is its first touch plus follow-ups
  (:func:`~calibrate.sla.work_per_mql`: mean ``m``, squared coefficient of variation ``cv2``;
  with per-lead contact rates, the mean over each threshold's MQLs); the fluid counts it in
  MQLs' worth of work (``mu = 1 / m`` per rep). The follow-ups are their own load: the one
  pass puts each lead's expected follow-up minutes (the chance of attempt ``j``, times the
  mean follow-up) at ``cadence_days[j]`` after its first possible start, in the in-hours
  bin or before the opening where they fall; a first touch brings only its share ``u =
  E[first touch] / m``. With ``followups_first`` the follow-ups due overnight go ahead of the
  opening batch, and the first touches drain at ``1 - rho_f`` of the team's rate
  (``rho_f`` the follow-ups' share of the capacity over the history); with ``recycle`` the
  follow-ups stay charged at the first touch. Shrinkage ``s`` leaves ``c_eff = c (1 - s)``
  reps on average.
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
  with ``lambda`` the in-hours arrival rate: a level averaged over three working periods
  either side times the bin's rate on that weekday over the whole history (a weekly and
  intraday profile, each weekday's deviation from the all-days profile shrunk by the share
  of it that Poisson noise explains), plus the follow-ups due in the bin, plus any
  burst beyond two Poisson deviations of that (the Poisson noise itself is left to the
  random part below, which already accounts for it). The backlog left at a close is
  carried to the next opening; when the load exceeds the capacity it grows over the days,
  and so do the waits.
* **Random part.** An in-hours MQL waits for the fluid backlog ahead of it, ``B = (X -
  c_eff)+ / (c_eff mu)``, then a random wait ``Wq`` with ``P(Wq > t) = sum_i p_i exp(-theta_i
  t)``. Pooled: for each number ``k`` of reps at work (binomial with ``1 - s``, at most 8
  nodes), Erlang C (:func:`simulate.erlang.erlang_c_scalar`) with the Allen-Cunneen factor
  ``f = (1 + cv2) / 2`` on the waiting time, ``theta = (k mu - lambda) / f``; a number that
  cannot keep up waits about half a meeting. Round robin: a rep gets every ``c``-th first
  touch and the follow-ups of his own leads, so his arrivals have ``ca2 = share_ft / c + (1 -
  share_ft)`` (``share_ft`` the first touch's share of the work), taken as Erlang-``1/ca2``
  spaced in a GI/M/1 queue (the chance to wait is the root ``sigma`` of ``sigma = (k r / (k r
  + 1 - sigma))^k`` at per-rep load ``r``, the mean wait scaled by ``(ca2 + cv2) / (ca2 +
  1)``); a rep in a meeting adds half a meeting; a rep on leave for the day (chance ``s *
  leave_day_share``) strands his leads until his next working day. The chance to wait is
  taken at the load ``max(lambda / mu, X)``: right after a backlog every rep is still busy. A
  load at or past the capacity keeps the random part of 98% (the fluid carries the rest).
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

Checked against the simulation (``bench/bench_sla_validity.py``: 288 cells, ten seeds
each; ``tests/test_sla_simulated.py`` and ``tests/test_sla_validity.py`` with tolerances of
three standard errors of the simulated mean plus the model's claim): SLA compliance within
0.03 for one weekday calendar for the whole team (9-17 New York with holidays, shrinkage,
six attempts, reassign at breach), 2 to 10 reps, round robin and pooled, business and
calendar clocks, SLAs of 8 to 24 hours, utilisation up to 0.75 (largest gap 0.028); within
0.02 on steady always-open queues at 30% to 95% load; value kept within 0.01 on weekday
calendars. That domain is :func:`calibrate.sla.validity`; outside it the simulation is to
be used. Known limits, measured on the grid: near capacity (0.9) the model is up to 0.05
too pessimistic on 8- and 24-hour SLAs (the follow-ups' priority taken as a constant slow
down of the drain); a 2-hour SLA is off by up to 0.07 (the first minutes of a batch are a
fluid); a calendar open around the clock is off by up to 0.19 at 60% to 90% load (the
intraday peak and the long meeting blocks of 24-hour days); a roster of different
calendars is treated as its union with the average number of reps at work, which under
round robin is far too kind (a lead waits for its own rep's hours: with reps in New York
and Berlin up to 0.23 too high on a 2-hour SLA). It assumes first-in-first-out
(``highest_score`` without aging is :mod:`calibrate.sla.priority_load`, built on this model;
``newest`` and aging are simulated only) and follow-ups first
(``followups_first=False`` is not modelled); with ``recycle`` the follow-ups stay charged at
the first touch (recycled leads make none). Where the two disagree the simulation overrides
the model (:func:`calibrate.sla.compare.overrides`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from calibrate.capacity import SalesCapacity, Window
from calibrate.sla._checks import check_leads, check_sizes, check_weights, lead_shares
from calibrate.sla._kernels import all_thresholds
from calibrate.sla._lead_pass import LeadPass, SlaClock, aggregate, day_index
from calibrate.sla._queueing import fill_erlang, fill_round_robin, rep_nodes
from calibrate.sla._structures import Bins, Decay, Grid, Periods, Queue, Staff, Tables
from calibrate.sla.priority_load import priority_load, weighted_columns
from calibrate.sla.work import _work_moments
from simulate.calendar import MINUTES_PER_DAY, merge_intervals, split_by_day, to_working_time
from simulate.funnel import Funnel
from simulate.team import SLA, Team

__all__ = ["LOAD_COLUMNS", "analytic_load"]

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
"""Columns of :func:`analytic_load` (and, after ``seed``, of :func:`~calibrate.sla.simulated_load`)."""

_OFF_BINS = 8  # bins of the off-hours gap before each working period
_IN_BINS = 8  # bins of each working period
_RHO_GRID = 513  # grid of per-server load for the Erlang C and round-robin tables
_T_GRID = 160  # grid of response times for the quantiles


# --------------------------------------------------------------------------------------
# Threshold-independent preparation
# --------------------------------------------------------------------------------------


def _team_hours(team: Team, start: dt.date, horizon_days: int) -> tuple[np.ndarray, float]:
    """The team's working intervals (union of the reps') and the share of reps at work in them."""
    calendars = team.calendars
    if all(c == calendars[0] for c in calendars) and team.on_team_minutes(start) is None:
        return calendars[0].intervals(start, horizon_days), 1.0
    each = team.calendar_intervals(start, horizon_days)
    union = merge_intervals(np.concatenate(each))
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


def _breach_mode(sla: SLA, pooled: bool) -> int:
    """The kernels' breach action: 1 recycle, 2 reassign (round robin only), else 0."""
    if sla.breach == "recycle":
        return 1
    if sla.breach == "reassign" and not pooled:
        return 2
    return 0


def _sla_clock(sla: SLA, start: dt.date, horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SLA calendar openings, lengths and working minutes before each (and the total last)."""
    if sla.clock == "calendar":
        sla_iv = np.zeros((1, 2))
        sla_iv[0, 1] = 1.0
    else:
        sla_iv = sla.calendar.intervals(start, horizon)
        if len(sla_iv) == 0:
            raise ValueError("SLA.calendar has no working time in the history")
    sla_len = sla_iv[:, 1] - sla_iv[:, 0]
    return sla_iv[:, 0].copy(), sla_len, np.concatenate([[0.0], np.cumsum(sla_len)])


def _follow_up_cadence(team: Team, contact: np.ndarray, bad: np.ndarray, attempt_connect_share: float) -> dict:
    """What the lead pass needs to place each MQL's expected follow-up work on the cadence:
    the chance that a reachable lead has not answered by attempt ``j`` (truncated
    geometric, as :func:`~calibrate.sla.work_per_mql`), the calendar minutes from the first
    touch to each follow-up, and the shares per lead (or one for all)."""
    a = team.attempts
    k = np.arange(1, a + 1)
    pa = float(attempt_connect_share)
    geo = pa * (1.0 - pa) ** (k - 1) if pa < 1 else (k == 1).astype(float)
    geo = geo / geo.sum()
    surv = 1.0 - np.cumsum(geo)[: a - 1]  # P(K > j), j = 1 .. a - 1
    contact, bad = np.broadcast_arrays(np.atleast_1d(contact), np.atleast_1d(bad))
    return {
        "contact": np.ascontiguousarray(contact, dtype=float),
        "bad": np.ascontiguousarray(bad, dtype=float),
        "fu_surv": np.clip(surv, 0.0, 1.0),
        "fu_at": np.asarray(team.cadence_days[: a - 1], dtype=float) * MINUTES_PER_DAY,
        "fu_mean": float(team.follow_up.mean_minutes),
    }


@dataclass(frozen=True)
class _Prepared:
    """Everything about the leads and calendars that no threshold changes."""

    thresholds: np.ndarray  # sorted distinct
    never: np.ndarray  # (L,) MQLs after the last working period
    history_minutes: float  # team working minutes in the history
    queue: Queue  # what the kernels read (its tables still empty)


def _prepare(score, handoff, thresholds, *, capacity: SalesCapacity, window: Window) -> _Prepared:
    team, sla, funnel = capacity.team, capacity.sla, capacity.funnel
    horizon = window.queue_days
    iv, coverage = _team_hours(team, window.start, horizon)
    if len(iv) == 0:
        raise ValueError("team calendars have no working time in the history")
    periods = split_by_day(iv)
    po, pe = periods[:, 0].copy(), periods[:, 1].copy()
    pl = pe - po
    pw = np.concatenate([[0.0], np.cumsum(pl)[:-1]])
    prev_close = np.concatenate([[0.0], pe[:-1]])
    pgap = po - prev_close
    pday = ((po // MINUTES_PER_DAY).astype(np.int64) + window.start.weekday()) % 7

    thr = np.unique(thresholds)
    contact, bad = lead_shares(capacity, score.size)
    e1, e2 = _work_moments(team, contact, bad, funnel.attempt_connect_share)
    sla_open, sla_len, sla_cum = _sla_clock(sla, window.start, horizon)
    dec_w, dec_k, rates, pair = _decay_terms(funnel)
    lead_pass = LeadPass(
        thresholds=thr,
        po=po,
        pl=pl,
        pw=pw,
        day_p=day_index(po, pe, horizon + 1),
        clock=SlaClock(
            calendar_clock=sla.clock == "calendar",
            minutes=sla.hours * 60.0,
            opens=sla_open,
            lengths=sla_len,
            cum=sla_cum[:-1].copy(),
            total=float(sla_cum[-1]),
            day_s=day_index(sla_open, sla_open, horizon + 1),  # SLA intervals opening before each day
        ),
        e1=np.atleast_1d(np.asarray(e1, dtype=float)),
        e2=np.atleast_1d(np.asarray(e2, dtype=float)),
        rates=rates,
        pair=pair,
        **_follow_up_cadence(team, contact, bad, funnel.attempt_connect_share),
    )
    off, inn, fu, never, mqls, s1, s2, n_arr = aggregate(lead_pass, score, handoff, _OFF_BINS, _IN_BINS)
    with np.errstate(invalid="ignore", divide="ignore"):
        m0, v0 = _work_moments(
            team, contact.mean() if contact.size else 0.0, bad.mean() if bad.size else 0.0, funnel.attempt_connect_share
        )
        work_mean = np.where(mqls > 0, s1 / mqls, m0)
        work_cv2 = np.where(mqls > 0, s2 / mqls / work_mean**2 - 1.0, v0 / m0**2 - 1.0)

    # response-time grid, and the working minutes within each grid time of every in-hours
    # bin's middle
    t_grid = np.concatenate([[0.0], np.geomspace(1.0, horizon * MINUTES_PER_DAY, _T_GRID - 1)])
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
    pooled = team.routing == "pooled"
    queue = Queue(
        staff=Staff(
            sigma=float(team.shrinkage),
            leave=float(team.leave_day_share),
            pooled=pooled,
            mode=_breach_mode(sla, pooled),
            ft_mean=float(team.first_touch.mean_minutes),
            coverage=float(coverage),
            followups_first=bool(team.followups_first),
        ),
        periods=Periods(po=po, pl=pl, pw=pw, pgap=pgap, pday=pday, n_arr=int(n_arr)),
        bins=Bins(off=off, inn=inn, fu=fu, mqls=mqls, work_mean=work_mean, work_cv2=work_cv2),
        decay=Decay(dec_w=dec_w, dec_k=dec_k, rates=rates, pair=pair, late=late, rest_exp=rest_exp, half_exp=half_exp),
        grid=Grid(omega=omega, t_grid=t_grid),
        tables=Tables(erl=np.ones((2, _RHO_GRID)), rr=np.ones((2, _RHO_GRID))),
    )
    history_minutes = float(np.clip(np.minimum(pe, window.end_minutes) - po, 0.0, None).sum())
    return _Prepared(thresholds=thr, never=never, history_minutes=history_minutes, queue=queue)


# --------------------------------------------------------------------------------------
# The model at any team sizes
# --------------------------------------------------------------------------------------


class _Model:
    """The prepared leads plus the queueing tables, evaluated at any team sizes."""

    def __init__(self, prep: _Prepared, team: Team):
        self.prep = prep
        self.team = team
        self.queue = prep.queue
        self.erl_done = np.zeros(2, dtype=bool)
        self.rr_done = np.zeros(2, dtype=bool)

    def _tables(self, cs: np.ndarray, ks: np.ndarray) -> None:
        """Fill the table rows that team sizes ``cs`` will look up (thresholds ``ks``)."""
        q = self.queue
        if q.staff.pooled:
            rows = np.unique(np.concatenate([rep_nodes(int(c), q.staff.sigma)[0] for c in np.unique(cs)]))
            erl, self.erl_done = self._grow(q.tables.erl, self.erl_done, rows, fill_erlang)
            self.queue = q._replace(tables=q.tables._replace(erl=erl))
        else:
            share = np.minimum(q.staff.ft_mean / q.bins.work_mean[ks], 1.0)
            kk = 1.0 / (share / cs + 1.0 - share)
            top = np.minimum(np.floor(kk).astype(np.int64) + 1, cs)
            rows = np.unique(np.concatenate([np.arange(1, int(top.max()) + 1), cs[kk >= cs]]))
            rr, self.rr_done = self._grow(q.tables.rr, self.rr_done, rows, fill_round_robin)
            self.queue = q._replace(tables=q.tables._replace(rr=rr))

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
        """Compliance sums, value sums and response-time quantiles (minutes) of thresholds
        ``ks`` at team sizes ``cs``."""
        ks = ks.astype(np.int64)
        cs = cs.astype(np.int64)
        self._tables(cs, ks)
        quantiles = np.array([0.5, 0.9]) if not target_only else np.zeros(0)
        return all_thresholds(self.queue, ks, cs, target_only, quantiles)

    def compliance(self, ks: np.ndarray, cs: np.ndarray) -> np.ndarray:
        comply, _, _ = self.evaluate(ks, cs, target_only=True)
        n = self.queue.bins.mqls[ks]
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
        q = self.queue
        mqls = q.bins.mqls
        out = np.where(mqls > 0, -1, 0)
        live = np.flatnonzero(mqls > 0)
        if live.size == 0:
            return out
        if sizes is not None:
            top = self.compliance(live, np.full(live.size, sizes[-1])) >= target
            found = live[top]
            pos = self._bisect(found, np.full(found.size, -1), np.full(found.size, sizes.size - 1), target, sizes)
            out[found] = sizes[pos]
            return out
        size = self.team.size
        cover = (1.0 - q.staff.sigma) * q.staff.coverage
        load = mqls * q.bins.work_mean / max(self.prep.history_minutes, 1e-9) / cover  # reps' worth of work
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
    capacity: SalesCapacity,
    window: Window,
    reps: Sequence[int] | None = None,
    weights: Mapping[str, ArrayLike] | None = None,
) -> pd.DataFrame:
    """The SLA load of every candidate threshold, from the analytic queue model.

    See :mod:`calibrate.sla.analytic` for the model; a team that calls in order of score
    (``discipline="highest_score"``, no aging) gets :mod:`calibrate.sla.priority_load`.

    Parameters
    ----------
    score : array_like
        ``(n,)`` score of each lead (higher is better); the lead is an MQL under threshold
        ``T`` iff ``score >= T``. nan never qualifies.
    handoff_min : array_like
        ``(n,)`` minutes since ``window.start`` 00:00 UTC at which the lead would be handed
        to sales (its MQL moment, or its creation), in ``[0, window.days * 1440)``.
    thresholds : array_like
        Candidate thresholds (any order; one row each, sorted ascending).
    capacity : calibrate.capacity.SalesCapacity
        The team and its calendars, the SLA, the response decay curves
        (``funnel.attempt_connect_share`` sets the cadence's answer rate), and, per lead or
        for all, the chance that a lead with good data answers at some attempt and the
        chance of bad contact data (see :func:`~calibrate.sla.work_per_mql`).
    window : calibrate.capacity.Window
        The history (minute 0 is ``window.start``); the queue runs ``window.pad_days`` past
        it.
    reps : sequence of int, optional
        Team sizes among which ``reps_needed`` is searched (-1 when none meets the target);
        default any size.
    weights : mapping of str to array_like, optional
        ``(n,)`` weights per lead (say the chance to win): adds ``value_kept_<name>``, the
        value kept weighted by them (the FIFO model's is ``value_kept`` itself).

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
    >>> from calibrate.capacity import SalesCapacity, Window
    >>> rng = np.random.default_rng(0)
    >>> score = rng.integers(0, 100, 20_000)  # a year of leads handed off around the clock
    >>> handoff = np.sort(rng.random(20_000)) * 365 * 1440
    >>> capacity = SalesCapacity()  # the default team of four, an 8-business-hour SLA
    >>> window = Window(start=datetime.date(2026, 1, 1), days=365)
    >>> table = analytic_load(score, handoff, [50, 70, 90], capacity=capacity, window=window)
    >>> print(table[["threshold", "mqls", "utilisation", "sla_compliance", "value_kept",
    ...              "reps_needed"]].round(2).to_string(index=False))
     threshold  mqls  utilisation  sla_compliance  value_kept  reps_needed
          50.0 10017         0.82            0.62        0.31            6
          70.0  5978         0.49            0.92        0.40            4
          90.0  2007         0.16            0.94        0.45            2
    """
    s, h, t = check_leads(score, handoff_min, thresholds, capacity=capacity, window=window)
    sizes = check_sizes(reps)
    team, sla = capacity.team, capacity.sla
    weights = check_weights(weights, s.size)
    if team.discipline == "highest_score" and team.aging_per_hour == 0:
        return priority_load(s, h, t, capacity=capacity, window=window, reps=sizes, weights=weights)
    prep = _prepare(s, h, t, capacity=capacity, window=window)
    model = _Model(prep, team)
    n = prep.queue.bins.mqls
    ks = np.arange(n.size)
    comply, value, q = model.evaluate(ks, np.full(n.size, team.size))
    offered = team.size * (1.0 - team.shrinkage) * prep.queue.staff.coverage * prep.history_minutes
    util = n * prep.queue.bins.work_mean / offered
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "threshold": prep.thresholds,
                "mqls": n.astype(np.int64),
                "mqls_per_month": n / window.months,
                "utilisation": util,
                "stable": util < 1.0,
                "sla_compliance": np.where(n > 0, comply / np.maximum(n, 1), np.nan),
                "median_response_hours": q[:, 0] / 60.0,
                "p90_response_hours": q[:, 1] / 60.0,
                "value_kept": np.where(n > 0, value / np.maximum(n, 1), np.nan),
                "reps_needed": model.reps_needed(sla.target, sizes, comply / np.maximum(n, 1)),
            }
        )
    return weighted_columns(table, weights)
