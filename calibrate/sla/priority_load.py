"""The analytic SLA load when the team calls its queue in order of score.

Under ``discipline="highest_score"`` (without aging) a waiting lead goes ahead of every lead
that scores less. The leads scoring at least ``S`` are then served as if the lower scores
were not there (they only take the reps nobody better is waiting for), whatever threshold is
in force: the MQLs of threshold ``S`` alone. The calendar-aware FIFO model
(:mod:`calibrate.sla.analytic`) is run on a ladder of nested score levels ``S_0 < S_1 <
...`` (every candidate threshold, and the distinct scores or up to :data:`LEVELS` quantiles
of them between), and the leads of each class ``[S_j, S_{j+1})`` get what their arrival
adds to the set above them:

* **value kept** of the class: ``(N_j v_j - N_{j+1} v_{j+1}) / (N_j - N_{j+1})``, with
  ``N_j`` the MQLs of level ``S_j`` and ``v_j`` their FIFO value kept. For mean waits this
  differencing is exact in a steady M/M/c queue with preemptive priority (Kleinrock's
  conservation law: a set of classes served ahead of the rest waits in total what it
  would wait alone, in any order among themselves; the lowest of ``n`` infinitesimal
  classes at load ``sigma`` then waits ``sigma (2 - sigma) / (mu (1 - sigma)^2)`` in an
  M/M/1, the derivative of the total).
* **Calls are not interrupted.** A good lead handed over in working hours while every rep
  is on a call waits for the first call to end, which the differencing (a preemptive
  queue) does not see. Cobham's non-preemptive M/M/c (:mod:`simulate.priority`) says by how
  much: a class waits with the chance ``C_T`` of the whole threshold's load instead of
  ``C_j`` of the set above it, and given that it waits, its wait does not depend on the
  classes below. The class keeps ``(1 - C_T G_j) / (1 - C_j G_j)`` of its in-hours value
  (``G_j`` the share lost by a lead that waits), in the steady queue of the team's reps
  at work (one rep's own queue under round robin), calls of one touch's mean length and
  each set's load from its utilisation. Linear in ``C_T``, it costs one pass for every
  threshold.
* **SLA compliance** of a threshold ``T``: the largest number of leads meeting the SLA at
  any level ``S >= T``, over the MQLs of ``T``. Under priority, adding lower scores never
  makes a better lead late, so the count can only grow as the threshold falls; where the
  FIFO count still grows (below capacity, where a recommendation lives) the two are the
  same, and past it the better leads keep the SLA that FIFO loses for everyone. It is a
  lower bound: the lowest class still gets the reps' idle minutes.
* **wins and revenue**: the value kept weighted by each lead's chance (``weights``), class
  by class, so a discipline that calls the likely winners first is credited for it.
* Response-time quantiles and ``reps_needed`` are the FIFO model's: the queue's waits are
  largely the overnight batch, which priority reorders but does not lengthen, and the FIFO
  count of leads within the SLA is what priority keeps below capacity.

Checked against the engine in ``bench/bench_priority_load.py`` (SLA compliance within 0.03
and the wins-weighted value kept within 0.015 wherever the validity rule trusts it: largest
gaps 0.025 and 0.012) and ``tests/test_priority_load.py``; its domain is
:func:`calibrate.sla.validity` (under a calendar-clock SLA shorter than a day only up to
utilisation 0.6: at 0.75 the lower bound on compliance was up to 0.06 low).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from calibrate.capacity import SalesCapacity, Window

__all__ = ["LEVELS", "priority_load", "weighted_columns"]

LEVELS = 120
"""Most score levels the ladder of nested MQL sets is cut into (besides the thresholds)."""


def weighted_columns(load: pd.DataFrame, weights: Mapping[str, np.ndarray] | None) -> pd.DataFrame:
    """``value_kept_<name>`` for every weight, equal to ``value_kept``: the FIFO model does
    not tell leads apart by score."""
    for name in weights or {}:
        load[f"value_kept_{name}"] = load["value_kept"].to_numpy()
    return load


def _levels(score: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The thresholds and the score levels between them (distinct scores, or quantiles)."""
    finite = score[np.isfinite(score) & (score >= thresholds[0])]
    levels = np.unique(finite)
    if levels.size > LEVELS:
        levels = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, LEVELS)))
    return np.union1d(levels, thresholds)


def _classes(score: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The leads at or above the lowest level, and the class ``[levels[j], levels[j + 1])``
    of each of them."""
    ok = np.isfinite(score) & (score >= levels[0])
    return ok, np.searchsorted(levels, score[ok], side="right") - 1


def _class_sums(classes: tuple[np.ndarray, np.ndarray], weight: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``weight`` over the leads of each class (``classes`` from ``_classes``)."""
    ok, cls = classes
    return np.bincount(cls, weights=weight[ok], minlength=size)


def _from_top(x: np.ndarray) -> np.ndarray:
    """``out[j] = sum(x[j:])``: the total over the classes at or above level ``j``."""
    return np.cumsum(x[::-1])[::-1]


def _residual(classes, handoff, levels, load, capacity: SalesCapacity, window: Window):
    """What not interrupting a call costs each class (module docstring), as a linear form
    in the chance to wait ``C_T`` of the threshold in force: a class keeps ``keep_j - C_T
    cost_j`` of its preemptive value.

    Returns ``keep`` (``1 - f_j + f_j / (1 - C_j G_j)``, ``f_j`` the class's share handed
    over in working hours), ``cost`` (``f_j G_j / (1 - C_j G_j)``) and ``wait_chance``
    (``C_j``, the chance to wait of the set at or above each level), per level.
    """
    from calibrate.sla.analytic import _decay_terms, _team_hours
    from calibrate.sla.work import work_per_mql
    from simulate.erlang import erlang_c
    from simulate.priority import conditional_decay

    team, funnel = capacity.team, capacity.funnel
    work, _ = work_per_mql(
        team,
        contact_rate=float(np.mean(capacity.contact_rate)),
        bad_data_share=float(np.mean(capacity.bad_data_share)),
        attempt_connect_share=funnel.attempt_connect_share,
    )
    # a call is one touch (the first or a follow-up), not the MQL's whole work
    attempts = 1.0 + max(work - team.first_touch.mean_minutes, 0.0) / max(team.follow_up.mean_minutes, 1e-9)
    work = work / attempts
    servers = 1 if team.routing == "round_robin" else max(1, round(team.size * (1.0 - team.shrinkage)))
    sigma = np.clip(np.nan_to_num(load), 0.0, 0.995)  # the set at or above each level
    top_down = sigma[::-1]
    rates = np.diff(top_down, prepend=0.0) * servers / work
    w, k, _, _ = _decay_terms(funnel)
    given_wait = conditional_decay(servers, np.maximum(rates, 0.0), 1.0 / work, k)[::-1]  # (J, Q)
    g = np.clip((w[None, :] * (1.0 - given_wait)).sum(axis=1), 0.0, 1.0)
    c_own = erlang_c(servers, servers * sigma)
    hours, _ = _team_hours(team, window.start, window.queue_days)
    opened = np.searchsorted(hours[:, 0], handoff, side="right") - 1
    in_hours = (opened >= 0) & (handoff < hours[np.maximum(opened, 0), 1])
    n = _class_sums(classes, np.ones(handoff.size), levels.size)
    with np.errstate(invalid="ignore", divide="ignore"):
        f = np.where(n > 0, _class_sums(classes, in_hours.astype(float), levels.size) / n, 0.0)
    base = 1.0 - c_own * g
    return 1.0 - f + f / base, f * g / base, c_own


def priority_load(
    score: np.ndarray,
    handoff_min: np.ndarray,
    thresholds: np.ndarray,
    *,
    capacity: SalesCapacity,
    window: Window,
    reps=None,
    weights: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """:func:`~calibrate.sla.analytic_load` for a queue called in order of score.

    Takes checked arrays (``calibrate.sla._checks.check_leads``); see the module docstring
    for the model. ``weights`` (name to a ``(n,)`` array aligned with ``score``) add
    ``value_kept_<name>``: the value kept weighted by them, per threshold.
    """
    from calibrate.sla.analytic import analytic_load

    team = capacity.team
    fifo = dataclasses.replace(capacity, team=dataclasses.replace(team, discipline="fifo", aging_per_hour=0.0))
    thr = np.unique(thresholds)
    levels = _levels(score, thr)
    ladder = analytic_load(score, handoff_min, levels, capacity=fifo, window=window, reps=reps)
    n = ladder["mqls"].to_numpy(float)
    value = np.nan_to_num(n * ladder["value_kept"].to_numpy(float))
    met = np.nan_to_num(n * ladder["sla_compliance"].to_numpy(float))
    added = n - np.append(n[1:], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        kept_class = np.where(added > 0, (value - np.append(value[1:], 0.0)) / added, 0.0)
    kept_class = np.clip(kept_class, 0.0, 1.0)
    at = np.searchsorted(levels, thr)
    out = ladder.iloc[at].reset_index(drop=True)
    count = n[at]

    classes = _classes(score, levels)
    load = ladder["utilisation"].to_numpy(float)
    keep, cost, wait_chance = _residual(classes, handoff_min, levels, load, capacity, window)

    def kept_by(weight: np.ndarray) -> np.ndarray:
        weight_sum = _class_sums(classes, weight, levels.size)
        per_class = weight_sum * kept_class
        kept_sum = _from_top(per_class * keep)[at] - wait_chance[at] * _from_top(per_class * cost)[at]
        total = _from_top(weight_sum)[at]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, kept_sum / total, np.where(count > 0, out["value_kept"], np.nan))

    envelope = np.maximum.accumulate(met[::-1])[::-1][at]
    with np.errstate(invalid="ignore", divide="ignore"):
        out["sla_compliance"] = np.where(count > 0, np.minimum(envelope / np.maximum(count, 1), 1.0), np.nan)
    out["value_kept"] = kept_by(np.ones(score.size))
    for name, weight in (weights or {}).items():
        out[f"value_kept_{name}"] = kept_by(np.asarray(weight, dtype=float))
    return out
