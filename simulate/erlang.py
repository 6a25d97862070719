"""Analytic M/M/c queue formulas (Erlang C) for fast SLA estimates.

The model: Poisson arrivals at ``arrival_rate``, exponential work at ``service_rate`` per
rep, ``servers`` reps always working, one first-in-first-out queue. The offered load is
``a = arrival_rate / service_rate`` and the queue is stable when ``a < servers``. With
``C`` the Erlang C probability of waiting and ``theta = servers * service_rate -
arrival_rate``, the wait ``W`` has ``P(W > t) = C exp(-theta t)``. Rates and times are in any
one unit (per minute and minutes in this package).

These are the checks the simulation is tested against, and the fast model the threshold
sweep uses; real calendars, round robin and follow-ups make the simulation differ.
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["erlang_c", "erlang_c_scalar", "expected_decay", "mean_wait", "prob_wait_within", "servers_needed"]


def _servers(servers: int) -> int:
    if isinstance(servers, bool) or not isinstance(servers, int | np.integer) or servers < 1:
        raise ValueError(f"servers must be an integer >= 1, got {servers!r}")
    return int(servers)


def _nonnegative(x: ArrayLike, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if np.any(np.isnan(a)) or np.any(a < 0) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite and >= 0")
    return a


@numba.njit(cache=True)
def erlang_c_scalar(servers: int, rho: float) -> float:
    """Erlang C ``C(c, c rho)`` of ``servers = c`` at per-server load ``rho`` (numba-callable).

    From Erlang B, ``1 / B = sum_j c! / ((c - j)! a^j)`` with ``a = c rho``, summed from
    ``j = 0`` until the terms stop counting (a few hundred terms even for thousands of
    servers), and ``C = B / (1 - rho (1 - B))``. All terms are positive, so the sum loses no
    precision; where ``1 / B`` passes 1e300 (``C`` below about 1e-300) it returns 0.

    Parameters
    ----------
    servers : int
        Number of servers ``c >= 1``.
    rho : float
        Per-server load ``a / c`` in ``[0, 1)``; 0 or below gives 0.

    Returns
    -------
    float
        The probability that an arrival waits.

    Examples
    --------
    >>> round(erlang_c_scalar(2, 0.5), 12)  # two servers, one erlang offered
    0.333333333333
    """
    if rho <= 0.0:
        return 0.0
    a = servers * rho
    total = 1.0
    term = 1.0
    for j in range(servers):
        term *= (servers - j) / a
        total += term
        if total > 1e300:
            return 0.0
        if term < 1e-17 * total:
            break
    b = 1.0 / total
    return b / (1.0 - rho * (1.0 - b))


@numba.njit(cache=True)
def _erlang_c_array(servers, rho):
    out = np.empty(rho.shape[0])
    for i in range(rho.shape[0]):
        out[i] = erlang_c_scalar(servers, rho[i])
    return out


def erlang_c(servers: int, offered_load: ArrayLike) -> np.ndarray:
    """Probability that an arrival has to wait in an M/M/c queue.

    Computed by :func:`erlang_c_scalar` (Erlang B as a sum of positive terms, then ``C = B /
    (1 - (a / c) (1 - B))``), which stays accurate for thousands of servers where the
    factorial formula overflows.

    Parameters
    ----------
    servers : int
        Number of servers ``c >= 1``.
    offered_load : array_like
        ``a = arrival_rate / service_rate``, each ``< servers``.

    Returns
    -------
    numpy.ndarray
        ``C(c, a)``, same shape as ``offered_load``.

    Examples
    --------
    >>> erlang_c(2, [0.0, 1.0])
    array([0.        , 0.33333333])
    """
    c = _servers(servers)
    a = _nonnegative(offered_load, "offered_load")
    if np.any(a >= c):
        raise ValueError(f"offered_load must be < servers ({c}) for a stable queue, got max {a.max()}")
    rho = np.ascontiguousarray(a / c, dtype=np.float64).reshape(-1)
    return _erlang_c_array(c, rho).reshape(a.shape)


def _rates(servers: int, arrival_rate: ArrayLike, service_rate: float):
    c = _servers(servers)
    lam = _nonnegative(arrival_rate, "arrival_rate")
    mu = float(service_rate)
    if not mu > 0 or not np.isfinite(mu):
        raise ValueError(f"service_rate must be finite and > 0, got {service_rate}")
    if np.any(lam >= c * mu):
        raise ValueError(
            f"arrival_rate must be < servers * service_rate = {c * mu} for a stable queue, got max {lam.max()}"
        )
    return c, lam, mu, erlang_c(c, lam / mu), c * mu - lam


def prob_wait_within(t: ArrayLike, servers: int, arrival_rate: ArrayLike, service_rate: float) -> np.ndarray:
    """``P(W <= t) = 1 - C exp(-(c mu - lambda) t)``, broadcast over ``t`` and rates.

    Examples
    --------
    >>> prob_wait_within([0.0, 10.0], 1, 0.05, 0.1)  # M/M/1 at 50% load, minutes
    array([0.5       , 0.69673467])
    """
    _, _, _, c_prob, theta = _rates(servers, arrival_rate, service_rate)
    t = _nonnegative(t, "t")
    return np.asarray(1.0 - c_prob * np.exp(-theta * t))


def mean_wait(servers: int, arrival_rate: ArrayLike, service_rate: float) -> np.ndarray:
    """Mean wait ``E[W] = C / (c mu - lambda)``.

    Examples
    --------
    >>> mean_wait(1, 0.05, 0.1)  # M/M/1: rho / (mu - lambda)
    array(10.)
    """
    _, _, _, c_prob, theta = _rates(servers, arrival_rate, service_rate)
    return np.asarray(c_prob / theta)


def expected_decay(servers: int, arrival_rate: ArrayLike, service_rate: float, k: ArrayLike) -> np.ndarray:
    """``E[exp(-k W)] = 1 - C k / ((c mu - lambda) + k)``: the mean of a response decay.

    With ``k`` the decay rate of the chance to qualify a lead per minute of waiting, this is
    the average share of that chance left when the first touch starts.

    Examples
    --------
    >>> expected_decay(1, 0.05, 0.1, [0.0, 0.05])
    array([1.  , 0.75])
    """
    _, _, _, c_prob, theta = _rates(servers, arrival_rate, service_rate)
    k = _nonnegative(k, "k")
    return np.asarray(1.0 - c_prob * k / (theta + k))


def servers_needed(arrival_rate: ArrayLike, service_rate: float, t: float, target: float) -> np.ndarray:
    """Smallest number of servers with ``P(W <= t) >= target``.

    Parameters
    ----------
    arrival_rate : array_like
        Arrivals per unit time, ``>= 0``.
    service_rate : float
        Services per unit time per server, ``> 0``.
    t : float
        The answer time, ``>= 0``.
    target : float
        The share to answer within ``t``, in ``(0, 1)``.

    Returns
    -------
    numpy.ndarray
        int64 number of servers, same shape as ``arrival_rate``.

    Examples
    --------
    >>> servers_needed([0.05, 0.5, 5.0], 0.1, t=5.0, target=0.8)
    array([ 2,  7, 53])
    """
    lam = _nonnegative(arrival_rate, "arrival_rate")
    mu = float(service_rate)
    if not mu > 0 or not np.isfinite(mu):
        raise ValueError(f"service_rate must be finite and > 0, got {service_rate}")
    t = float(t)
    if not t >= 0 or not np.isfinite(t):
        raise ValueError(f"t must be finite and >= 0, got {t}")
    if not 0 < target < 1:
        raise ValueError(f"target must be in (0, 1), got {target}")
    out = np.empty(lam.shape, dtype=np.int64)
    for idx, rate in np.ndenumerate(lam):
        a = rate / mu
        b = 1.0  # Erlang B with 0 servers, carried up one server at a time
        c = 0
        while True:
            c += 1
            b = a * b / (c + a * b)
            if a < c:
                c_prob = b / (1.0 - (a / c) * (1.0 - b))
                if 1.0 - c_prob * np.exp(-(c * mu - rate) * t) >= target:
                    break
        out[idx] = c
    return out
