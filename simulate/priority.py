"""Non-preemptive priority M/M/c queues by class: Cobham's mean waits and the wait distribution.

The model: ``servers = c`` reps always working, Poisson arrivals of ``K`` classes at rates
``lambda_1 .. lambda_K`` (class 1 first: a free rep takes the waiting lead of the best
class, first come first served within a class, and never interrupts a job), the same
exponential work at ``service_rate = mu`` per rep for every class. With ``a = lambda / mu``
(``lambda`` the total), ``C = C(c, a)`` the Erlang C chance to wait
(:func:`simulate.erlang.erlang_c`) and ``sigma_k = sum_{j <= k} lambda_j / (c mu)``:

* every class waits with chance ``C`` (Poisson arrivals see the time average, and whether
  all reps are busy does not depend on the order of the queue);
* Cobham's mean wait ``W_k = C / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k))``;
* given that it waits, a class-``k`` lead waits the busy period, in an M/M/1 queue with
  arrival rate ``Lambda = sum_{j < k} lambda_j`` and service rate ``c mu`` (all reps busy
  serve one job each ``1 / (c mu)`` on average), started by ``V ~ Exp(c mu (1 -
  sigma_k))``: ``V`` is the time to clear the leads of classes ``1 .. k`` found waiting plus
  the first completion, the wait of an arrival of the merged classes ``1 .. k`` (FIFO among
  themselves, exponential by PASTA), and the better classes arriving meanwhile go ahead.
  Its Laplace transform is ``E[exp(-s W) | W > 0] = v / (v + s + Lambda (1 - beta(s)))``
  with ``v = c mu (1 - sigma_k)`` and ``beta`` the transform of the M/M/1 busy period
  (Davis 1966; Kella & Yechiali 1985 for the M/M/c reduction). Class 1 is exactly
  exponential with rate ``c mu (1 - sigma_1)``; the others are inverted numerically (Euler
  summation, Abate & Whitt 1995, accurate to about 1e-7).

Rates and times are in any one unit (per minute and minutes in this package).
:func:`class_arrival_rates` turns one threshold's MQL scores into score bands (by quantile,
highest first) and their rates.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from simulate.erlang import _servers, erlang_c

__all__ = [
    "class_arrival_rates",
    "conditional_decay",
    "fifo_ratio",
    "priority_expected_decay",
    "priority_mean_wait",
    "priority_prob_wait_within",
    "score_classes",
]

_EULER_M = 15  # terms of the Euler summation: 2 M + 1 transform evaluations per time


def _classes(servers: int, class_rates: ArrayLike, service_rate: float):
    """Validated ``c, lambda_k, mu``, the chance to wait and ``sigma_{k-1}, sigma_k``."""
    c = _servers(servers)
    lam = np.asarray(class_rates, dtype=np.float64)
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"class_rates must be a non-empty one-dimensional array, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)) or np.any(lam < 0):
        raise ValueError("class_rates must be finite and >= 0")
    mu = float(service_rate)
    if not mu > 0 or not math.isfinite(mu):
        raise ValueError(f"service_rate must be finite and > 0, got {service_rate}")
    total = float(lam.sum())
    if total >= c * mu:
        raise ValueError(
            f"the total arrival rate must be < servers * service_rate = {c * mu} for a stable queue, got {total}"
        )
    sigma = np.cumsum(lam) / (c * mu)
    before = np.concatenate([[0.0], sigma[:-1]])
    return c, lam, mu, float(erlang_c(c, total / mu)), before, sigma


def priority_mean_wait(servers: int, class_rates: ArrayLike, service_rate: float) -> np.ndarray:
    """Cobham's mean wait of each class, ``C / (c mu) / ((1 - sigma_{k-1}) (1 - sigma_k))``.

    Parameters
    ----------
    servers : int
        Number of reps ``c >= 1``.
    class_rates : array_like
        ``(K,)`` arrival rate of each class, best class first, each ``>= 0``, summing to less
        than ``servers * service_rate``.
    service_rate : float
        Jobs per unit time per rep, ``> 0``.

    Returns
    -------
    numpy.ndarray
        ``(K,)`` mean wait of each class (in the time unit of the rates).

    Examples
    --------
    >>> priority_mean_wait(1, [0.25, 0.25], 1.0)  # M/M/1 at 50%: FIFO waits 1.0
    array([0.66666667, 1.33333333])
    """
    c, _, mu, c_prob, before, sigma = _classes(servers, class_rates, service_rate)
    return c_prob / (c * mu) / ((1.0 - before) * (1.0 - sigma))


def fifo_ratio(servers: int, class_rates: ArrayLike, service_rate: float) -> np.ndarray:
    """Each class's mean wait over the FIFO mean wait of the same queue, ``(1 - rho) / ((1 -
    sigma_{k-1}) (1 - sigma_k))``: the rate-weighted mean of the ratios is 1 (the work
    conservation law), and the ratio does not depend on the number of reps.

    Examples
    --------
    >>> fifo_ratio(4, [0.5, 0.5, 1.0], 1.0).round(4)
    array([0.5714, 0.7619, 1.3333])
    """
    c, lam, mu, _, before, sigma = _classes(servers, class_rates, service_rate)
    rho = lam.sum() / (c * mu)
    return (1.0 - rho) / ((1.0 - before) * (1.0 - sigma))


def _transform(s: np.ndarray, v: np.ndarray, ahead: np.ndarray, m: float) -> np.ndarray:
    """``E[exp(-s W) | W > 0]``: the M/M/1 busy period (arrivals ``ahead``, service ``m``)
    started by ``Exp(v)``; ``v`` and ``ahead`` broadcast against complex ``s``."""
    z = s + ahead + m
    r = np.sqrt(z * z - 4.0 * ahead * m)
    r = np.where(np.abs(z - r) > np.abs(z + r), -r, r)
    beta = 2.0 * m / (z + r)  # the root inside the unit disc, stable as ahead -> 0
    return v / (v + s + ahead * (1.0 - beta))


def _euler_weights(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the Euler summation of the Fourier series (Abate & Whitt 1995)."""
    xi = np.ones(2 * m + 1)
    xi[0] = 0.5
    xi[2 * m] = 2.0**-m
    for k in range(1, m):
        xi[2 * m - k] = xi[2 * m - k + 1] + 2.0**-m * math.comb(m, k)
    eta = (-1.0) ** np.arange(2 * m + 1) * xi
    nodes = m * math.log(10.0) / 3.0 + 1j * math.pi * np.arange(2 * m + 1)
    return nodes, eta * 10.0 ** (m / 3.0)


def _conditional_tail(t: np.ndarray, v: np.ndarray, ahead: np.ndarray, m: float) -> np.ndarray:
    """``P(W > t | W > 0)`` per class (rows) and time (columns), ``t > 0``: inverting
    ``(1 - transform(s)) / s``; class 1 (nothing ahead) in closed form."""
    nodes, weights = _euler_weights(_EULER_M)
    s = nodes[None, None, :] / t[None, :, None]
    f = (1.0 - _transform(s, v[:, None, None], ahead[:, None, None], m)) / s
    out = (f.real * weights).sum(axis=2) / t[None, :]
    exact = ahead == 0
    out[exact] = np.exp(-v[exact, None] * t[None, :])
    return np.clip(out, 0.0, 1.0)


def _times(t: ArrayLike) -> np.ndarray:
    a = np.asarray(t, dtype=np.float64)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("t must be finite and >= 0")
    return a


def priority_prob_wait_within(t: ArrayLike, servers: int, class_rates: ArrayLike, service_rate: float) -> np.ndarray:
    """``P(W_k <= t)`` for every class ``k``: the share of class-``k`` leads answered within ``t``.

    ``1 - C P(W_k > t | W_k > 0)``, the conditional tail from the busy-period transform of
    the module docstring (exact for class 1, numerically inverted for the others).

    Parameters
    ----------
    t : array_like
        Waiting times (any shape), ``>= 0``.
    servers, class_rates, service_rate
        As in :func:`priority_mean_wait`.

    Returns
    -------
    numpy.ndarray
        ``(K, *t.shape)``: row ``k`` for class ``k``.

    Examples
    --------
    >>> priority_prob_wait_within([0.0, 2.0], 1, [0.25, 0.25], 1.0).round(4)
    array([[0.5   , 0.8884],
           [0.5   , 0.7836]])
    """
    c, lam, mu, c_prob, before, sigma = _classes(servers, class_rates, service_rate)
    tt = _times(t)
    flat = tt.reshape(-1)
    m = c * mu
    tail = np.ones((lam.size, flat.size))
    pos = flat > 0
    if pos.any():
        tail[:, pos] = _conditional_tail(flat[pos], m * (1.0 - sigma), before * m, m)
    return (1.0 - c_prob * tail).reshape((lam.size, *tt.shape))


def priority_expected_decay(servers: int, class_rates: ArrayLike, service_rate: float, k: ArrayLike) -> np.ndarray:
    """``E[exp(-k W_k)]`` per class: the mean share of a response decay of rate ``k`` kept.

    ``1 - C + C E[exp(-k W) | W > 0]``, the transform of the module docstring at ``s = k``
    (exact).

    Parameters
    ----------
    servers, class_rates, service_rate
        As in :func:`priority_mean_wait`.
    k : array_like
        Decay rates (any shape), ``>= 0``.

    Returns
    -------
    numpy.ndarray
        ``(K, *k.shape)``.

    Examples
    --------
    >>> priority_expected_decay(1, [0.25, 0.25], 1.0, [0.0, 0.5]).round(4)
    array([[1.    , 0.8   ],
           [1.    , 0.7287]])
    """
    c_prob = _classes(servers, class_rates, service_rate)[3]
    return 1.0 - c_prob + c_prob * conditional_decay(servers, class_rates, service_rate, k)


def conditional_decay(servers: int, class_rates: ArrayLike, service_rate: float, k: ArrayLike) -> np.ndarray:
    """``E[exp(-k W_k) | W_k > 0]`` per class: the share kept by a lead that has to wait.

    It does not depend on the classes below ``k`` (they change only the chance to wait,
    ``C``), which is what tells a non-preemptive queue from a preemptive one
    (``calibrate.sla.priority_load``).

    Examples
    --------
    >>> conditional_decay(1, [0.25, 0.25], 1.0, 0.5).round(4)
    array([0.6   , 0.4574])
    """
    c, lam, mu, _, before, sigma = _classes(servers, class_rates, service_rate)
    kk = _times(k)
    m = c * mu
    s = kk.reshape(1, -1).astype(complex)
    cond = _transform(s, (m * (1.0 - sigma))[:, None], (before * m)[:, None], m).real
    return cond.reshape((lam.size, *kk.shape))


def score_classes(score: ArrayLike, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Score bands of one threshold's MQLs by quantile, best first.

    The band edges are the ``1/K, 2/K, ..`` quantiles of the scores from the top; a lead is
    in the best band whose lower edge its score reaches, so leads of equal score always share
    a band (ties can leave bands uneven, or empty).

    Parameters
    ----------
    score : array_like
        ``(n,)`` MQL scores (finite).
    classes : int
        Number of bands ``K >= 1``.

    Returns
    -------
    klass : numpy.ndarray
        ``(n,)`` int64 band of each lead, 0 the best.
    edges : numpy.ndarray
        ``(K,)`` lowest score of each band (the last is the lowest score).

    Examples
    --------
    >>> klass, edges = score_classes([10, 20, 30, 40], 2)
    >>> klass.tolist(), edges.tolist()
    ([1, 1, 0, 0], [30.0, 10.0])
    """
    if isinstance(classes, bool) or not isinstance(classes, int | np.integer) or classes < 1:
        raise ValueError(f"classes must be an integer >= 1, got {classes!r}")
    s = np.asarray(score, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"score must be a non-empty one-dimensional array, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("score must be finite")
    desc = np.sort(s)[::-1]
    cut = np.ceil(np.arange(1, classes + 1) * s.size / classes).astype(np.int64) - 1
    edges = desc[cut]
    klass = np.searchsorted(-edges, -s, side="left")  # first band whose edge the score reaches
    return klass.astype(np.int64), edges


def class_arrival_rates(score: ArrayLike, classes: int, *, minutes: float) -> np.ndarray:
    """Arrival rate of each score band (:func:`score_classes`) over ``minutes``, best first.

    Parameters
    ----------
    score : array_like
        ``(n,)`` scores of one threshold's MQLs, handed off over ``minutes``.
    classes : int
        Number of bands.
    minutes : float
        Length of the time the MQLs arrived in, ``> 0``.

    Returns
    -------
    numpy.ndarray
        ``(K,)`` MQLs per minute of each band.

    Examples
    --------
    >>> class_arrival_rates([10, 20, 30, 40], 2, minutes=100.0)
    array([0.02, 0.02])
    """
    if not float(minutes) > 0 or not math.isfinite(float(minutes)):
        raise ValueError(f"minutes must be finite and > 0, got {minutes}")
    klass, _ = score_classes(score, classes)
    return np.bincount(klass, minlength=classes).astype(np.float64) / float(minutes)
