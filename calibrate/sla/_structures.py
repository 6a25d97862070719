"""What the analytic SLA model's kernels read (:mod:`calibrate.sla._kernels`), as typed tuples.

One :class:`Queue` is made of the team's scalars (:class:`Staff`), its working periods
(:class:`Periods`), the leads' bins per threshold (:class:`Bins`), the response decay
(:class:`Decay`), the response-time grid (:class:`Grid`) and the queueing tables
(:class:`Tables`); :mod:`calibrate.sla.analytic` builds it, numba compiles the kernels for it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Bins", "Decay", "Grid", "Periods", "Queue", "Staff", "Tables"]


class Staff(NamedTuple):
    """The team as the kernels see it (scalars)."""

    sigma: float  # shrinkage
    leave: float  # the share of it taken as whole days of leave
    pooled: bool  # routing
    mode: int  # breach action: 0 none (or escalate), 1 recycle, 2 reassign (round robin)
    ft_mean: float  # mean minutes of a first touch
    coverage: float  # share of reps at work in the team's (union) working time
    followups_first: bool  # follow-ups due go before waiting first touches


class Periods(NamedTuple):
    """The team's working periods (days), in calendar and working minutes."""

    po: np.ndarray  # (P,) openings
    pl: np.ndarray  # (P,) lengths
    pw: np.ndarray  # (P,) team working minutes before each opening
    pgap: np.ndarray  # (P,) off-hours gap before each
    pday: np.ndarray  # (P,) UTC weekday of each opening (Monday 0)
    n_arr: int  # periods that receive arrivals


class Bins(NamedTuple):
    """The leads in bins, per threshold (its own MQLs and those of every threshold above)."""

    off: np.ndarray  # (L, n_arr, G, 3 + Q) off hours: MQLs, failing for sure, slack sum, decay sums
    inn: np.ndarray  # (L, n_arr, J, 3) in hours: MQLs, failing for sure, slack sum
    fu: np.ndarray  # (L, n_arr, J + 1) follow-up minutes due in each in-hours bin, and (last) before the opening
    mqls: np.ndarray  # (L,)
    work_mean: np.ndarray  # (L,) mean work per MQL
    work_cv2: np.ndarray  # (L,) and its squared CV


class Decay(NamedTuple):
    """``connect_decay * qualify_decay = sum_q dec_w[q] exp(-dec_k[q] t)`` and what it takes."""

    dec_w: np.ndarray  # (Q,)
    dec_k: np.ndarray  # (Q,)
    rates: np.ndarray  # the single-curve rates
    pair: np.ndarray  # (2, Q): dec_k[q] = rates[pair[0, q]] + rates[pair[1, q]]
    late: np.ndarray  # (P, Q) exp(-k_q * off-hours gap after each period)
    rest_exp: np.ndarray  # (n_arr, J, Q) exp(-k_q * rest of the period after a bin's middle)
    half_exp: np.ndarray  # (n_arr, J, Q) exp(-k_q * half a bin)


class Grid(NamedTuple):
    """Response times for the quantiles."""

    omega: np.ndarray  # (n_arr, J, T) working minutes within t_grid of each in-hours bin's middle
    t_grid: np.ndarray  # (T,) calendar minutes


class Tables(NamedTuple):
    """Queueing tables: row ``k`` reps (or Erlang order), column load ``i / (columns - 1)``."""

    erl: np.ndarray  # Erlang C
    rr: np.ndarray  # round robin (GI/M/1 root)


class Queue(NamedTuple):
    """Everything the per-threshold kernels read."""

    staff: Staff
    periods: Periods
    bins: Bins
    decay: Decay
    grid: Grid
    tables: Tables
