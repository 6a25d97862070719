"""How a lead's chance to qualify falls while it waits for its first touch, fitted from a history.

The model, for a touched lead with good contact data, waited ``t`` calendar minutes, of score
logit ``s`` (how good it looked, from a model of its features without the wait)::

    P(outcome | s, t) = sigmoid(a + b * s) * d(t),
    d(t) = floor + sum_j w_j * 0.5 ** (t / h_j),   floor + sum_j w_j = 1,  all >= 0.

``d`` is the ``simulate.funnel.ResponseDecay`` family on a fixed grid of half-lives
(``HALF_LIVES``, ten minutes to ten days): any completely monotone decay is close to such a
mixture, so the shape is learned, not assumed; ``d(0) = 1``, so ``d(t)`` is the share of the
at-once chance left after ``t``. Comparing leads of similar score removes the confounding
that busy weeks bring (more leads, longer waits, a different mix). The leads are grouped in
cells of score and wait (``_cells``), so a million leads fit as fast as a thousand; the
interval is a Poisson bootstrap over leads (percentiles), refitted from the full fit.

Without first-touch times or with too few outcomes, the published-study prior stands
(``simulate.funnel.Funnel``'s default decays, their product), labelled as assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from simulate.funnel import Funnel, ResponseDecay

__all__ = ["HALF_LIVES", "MIN_OUTCOMES", "PRIOR_SOURCE", "ResponseEffect", "fit_response_effect", "prior_effect"]

HALF_LIVES = (10.0, 30.0, 120.0, 480.0, 1440.0, 4320.0, 14400.0)
"""Half-lives (minutes) of the decay's phases; the floor is the phase that never decays."""

MIN_OUTCOMES = 50
"""Fewer positive outcomes among touched leads than this, and the prior stands."""

PRIOR_SOURCE = (
    "published-study prior: Oldroyd, McElheran and Elkington, HBR 2011, and the MIT/InsideSales "
    "Lead Response Management study, 2007, made milder (simulate.funnel.ResponseDecay)"
)

REPORT_HOURS = (1.0, 8.0, 24.0, 72.0)
"""The waits (calendar hours) at which the effect is reported."""


@dataclass(frozen=True, slots=True)
class ResponseEffect:
    """The fitted (or assumed) response-time effect.

    Attributes
    ----------
    decay : the share of the at-once chance left after a wait (``d`` above).
    hours, share, low, high : ``d`` at ``hours`` (calendar hours) with its 95% interval
        (equal to ``share`` where assumed).
    fitted : learned from the history, or the prior.
    n_leads, n_outcomes : the touched leads it was fitted on and their positive outcomes.
    outcome : what it was fitted to (``"sql"`` or ``"won"``).
    source : where it comes from, in words.
    """

    decay: ResponseDecay
    hours: np.ndarray
    share: np.ndarray
    low: np.ndarray
    high: np.ndarray
    fitted: bool
    n_leads: int
    n_outcomes: int
    outcome: str
    source: str

    def table(self) -> pd.DataFrame:
        """``d`` at the reported waits: share of the at-once chance left, with the interval."""
        return pd.DataFrame({"wait_hours": self.hours, "share_left": self.share, "low": self.low, "high": self.high})

    def interval(self, hours: float) -> tuple[float, float]:
        """The 95% interval of ``d`` at ``hours`` calendar hours (by the bootstrap's curves)."""
        i = int(np.argmin(np.abs(self.hours - hours)))
        if not np.isclose(self.hours[i], hours):
            raise ValueError(f"the effect is reported at {self.hours.tolist()} hours, not {hours}")
        return float(self.low[i]), float(self.high[i])


def prior_decay() -> ResponseDecay:
    """The product of the default connect and qualify decays, as one ``ResponseDecay``."""
    f = Funnel()
    phases: dict[float, float] = {}
    floor = 0.0
    for w1, k1 in f.connect_decay.rates_per_minute:
        for w2, k2 in f.qualify_decay.rates_per_minute:
            if k1 + k2 == 0:
                floor += w1 * w2
            else:
                half = float(np.log(2) / (k1 + k2))
                phases[half] = phases.get(half, 0.0) + w1 * w2
    total = floor + sum(phases.values())
    return ResponseDecay(phases=tuple((w / total, h) for h, w in sorted(phases.items())), floor=floor / total)


def prior_effect(outcome: str = "sql", reason: str = "") -> ResponseEffect:
    """The prior, labelled as assumed (``reason``: why the history could not say)."""
    decay = prior_decay()
    hours = np.asarray(REPORT_HOURS)
    share = decay(hours * 60.0)
    source = PRIOR_SOURCE + (f" ({reason})" if reason else "")
    return ResponseEffect(decay, hours, share, share.copy(), share.copy(), False, 0, 0, outcome, source)


def _basis(t: np.ndarray) -> np.ndarray:
    """Columns: the floor (1) and each phase's ``0.5 ** (t / h)``."""
    return np.column_stack([np.ones(t.size), *(np.exp2(-t / h) for h in HALF_LIVES)])


def _weights(theta: np.ndarray) -> np.ndarray:
    z = np.r_[0.0, theta]
    e = np.exp(z - z.max())
    return e / e.sum()


def _negloglik(params, s, basis, k, f):
    """Minus the log-likelihood and its gradient (``params = a, b, logits of phases``) over
    cells of leads: ``k`` reached the outcome, ``f`` did not, at score ``s`` and decay basis
    ``basis`` (the cell's means)."""
    a, b, theta = params[0], params[1], params[2:]
    w = _weights(theta)
    eta = a + b * s
    q = expit(eta)
    d = np.clip(basis @ w, 1e-12, 1.0)
    p = np.clip(q * d, 1e-12, 1 - 1e-12)
    ll = k * (log_expit(eta) + np.log(d)) + f * np.log1p(-p)
    dp = k / p - f / (1 - p)  # d ll / d p, then the chain rule
    g_eta = dp * d * q * (1 - q)
    grad_w = basis.T @ (dp * q)
    grad_theta = (w * (grad_w - w @ grad_w))[1:]  # softmax Jacobian (first logit fixed at 0)
    ridge = 0.01 * float(theta @ theta)
    grad = np.r_[g_eta.sum(), (g_eta * s).sum(), grad_theta]
    grad[2:] -= 0.02 * theta
    return -(ll.sum() - ridge), -grad


def _fit(s, basis, k, f, start):
    res = minimize(_negloglik, start, args=(s, basis, k, f), jac=True, method="BFGS")
    return res.x


SCORE_BINS = 40
WAIT_BINS = 60


def _cells(s: np.ndarray, t: np.ndarray, y: np.ndarray):
    """Leads grouped by score (quantile bins) and wait (zero, then log-spaced bins): each
    cell's mean score, mean decay basis, and counts reaching and not reaching the outcome.
    The likelihood over cells is the leads' up to the spread within a cell, and a Poisson
    bootstrap of the leads is a Poisson draw of each cell's two counts."""
    s_edges = np.unique(np.quantile(s, np.linspace(0, 1, SCORE_BINS + 1)[1:-1]))
    s_bin = np.searchsorted(s_edges, s)
    t_edges = np.geomspace(1.0, max(float(t.max()), 2.0), WAIT_BINS)
    t_bin = np.where(t <= 0, 0, 1 + np.searchsorted(t_edges, t))
    cell, index = np.unique(s_bin * (WAIT_BINS + 2) + t_bin, return_inverse=True)
    n = np.bincount(index, minlength=cell.size).astype(float)
    k = np.bincount(index, weights=y, minlength=cell.size)
    mean_s = np.bincount(index, weights=s, minlength=cell.size) / n
    basis = _basis(t)
    mean_basis = np.column_stack(
        [np.bincount(index, weights=basis[:, j], minlength=cell.size) / n for j in range(basis.shape[1])]
    )
    return mean_s, mean_basis, k, n - k


def fit_response_effect(
    wait_min: np.ndarray,
    outcome: np.ndarray,
    score_logit: np.ndarray,
    *,
    outcome_name: str = "sql",
    bootstrap: int = 100,
    rng: np.random.Generator | int | None = 0,
) -> ResponseEffect:
    """Fit the response-time effect (module docstring) to touched leads.

    Parameters
    ----------
    wait_min : calendar minutes from the MQL moment to the first touch, per lead.
    outcome : reached the outcome (SQL, or won) within the horizon.
    score_logit : how good each lead looked, as a logit, from a model without the wait.
    bootstrap : resamples for the interval.
    rng : seed of the bootstrap.
    """
    t = np.asarray(wait_min, dtype=float)
    y = np.asarray(outcome, dtype=float)
    s = np.asarray(score_logit, dtype=float)
    ok = np.isfinite(t) & np.isfinite(s) & np.isfinite(y)
    t, y, s = np.maximum(t[ok], 0.0), y[ok], s[ok]
    if y.sum() < MIN_OUTCOMES or (y.size - y.sum()) < MIN_OUTCOMES:
        return prior_effect(outcome_name, f"{int(y.sum())} touched leads reached {outcome_name}, under {MIN_OUTCOMES}")
    mu, sd = s.mean(), max(s.std(), 1e-9)
    s = (s - mu) / sd
    s, basis, k, f = _cells(s, t, y)
    start = np.r_[np.log(max(y.mean(), 1e-6) / max(1 - y.mean(), 1e-6)) + 0.5, 1.0, np.zeros(len(HALF_LIVES))]
    params = _fit(s, basis, k, f, start)
    hours = np.asarray(REPORT_HOURS)
    report = _basis(hours * 60.0)
    share = report @ _weights(params[2:])
    rng = np.random.default_rng(rng)
    curves = np.empty((bootstrap, hours.size))
    for i in range(bootstrap):
        k_i, f_i = rng.poisson(k).astype(float), rng.poisson(f).astype(float)
        curves[i] = report @ _weights(_fit(s, basis, k_i, f_i, params)[2:])
    w = _weights(params[2:])
    decay = ResponseDecay(phases=tuple(zip(w[1:].tolist(), HALF_LIVES)), floor=float(w[0]))
    return ResponseEffect(
        decay=decay,
        hours=hours,
        share=share,
        low=np.quantile(curves, 0.025, axis=0) if bootstrap else share.copy(),
        high=np.quantile(curves, 0.975, axis=0) if bootstrap else share.copy(),
        fitted=True,
        n_leads=int(y.size),
        n_outcomes=int(y.sum()),
        outcome=outcome_name,
        source=f"fitted from {y.size:,} touched leads ({int(y.sum()):,} reached {outcome_name})",
    )
