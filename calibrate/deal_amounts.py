"""Expected deal amount per lead, from what was known about it when it arrived.

A threshold's revenue is the sum over the leads it hands to sales of their chance to win
times their expected deal amount. The amount a deal closes at depends on the company
(measured on the simulator's default world: won new-business deals average 16k in the
smallest fifth of company sizes and 64k in the largest), and the leads a threshold adds
or drops are not an average sample of the won deals: with the mean won amount of the lead
type alone, the revenue a higher threshold gives up was understated by 20-50% against
paired new years.

So the amount is a regression of ``log(amount)`` on the won deals' **attributes known at
creation** (lead type, source, company size on a log scale, the categorical fit
attributes, ``AMOUNT_DRIVERS``; never the behaviour counts, which grow after the decision),
the category levels ridge-penalised with the penalty chosen by leave-one-out error (a
numeric driver is not: measured on the simulator, one penalty for all shrank the
company-size elasticity from 0.29 to 0.22, under the weight of 20 noise levels), turned
back into a mean with Duan's smearing factor (``E[exp(residual)]``: the mean of a skewed
amount is above ``exp`` of its mean log). A lead type with at least
``MIN_DEALS_FOR_MODEL`` won deals gets a model of its own (an expansion deal need not
grow with the company as a new one does); the others share one with the type as a driver. With fewer than
``MIN_DEALS_FOR_MODEL`` won deals with a positive amount, or none of the attributes, it is
the mean won amount of the lead type (else overall), as before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulate.table import CATEGORICAL_ATTRIBUTES

__all__ = ["AMOUNT_DRIVERS", "MIN_DEALS_FOR_MODEL", "amount_basis", "amount_dispersion", "expected_amounts"]

AMOUNT_DRIVERS = ("lead_type", "source", "company_size", *CATEGORICAL_ATTRIBUTES)
"""The lead columns a deal's amount is regressed on, where the history has them."""
MIN_DEALS_FOR_MODEL = 40
"""Below this many won deals with a positive amount, the amount is the lead type's mean."""
_MIN_LEVEL_DEALS = 5
"""A category level with fewer won deals shares the baseline column."""
_ALPHAS = np.logspace(-2, 3, 11)


def won_with_amount(leads: pd.DataFrame) -> np.ndarray:
    """Per lead: it won and its amount is known."""
    if "amount" not in leads or "customer_at" not in leads:
        return np.zeros(len(leads), dtype=bool)
    return (leads["customer_at"].notna() & leads["amount"].notna()).to_numpy()


def expected_amounts(leads: pd.DataFrame) -> np.ndarray:
    """Expected deal amount per lead (ones where the history has no amounts).

    See the module docstring: ridge regressions of ``log(amount)`` on ``AMOUNT_DRIVERS``
    over the won deals (one per lead type with enough of them), smeared back to a mean; the
    lead type's mean won amount where the deals are too few or an amount is not positive.
    """
    won = won_with_amount(leads)
    if not won.any():
        return np.ones(len(leads))
    amount = leads["amount"].to_numpy(float)
    drivers = [c for c in AMOUNT_DRIVERS if c in leads]
    if won.sum() < MIN_DEALS_FOR_MODEL or not drivers or (amount[won] <= 0).any():
        return _type_means(leads, won, amount)
    X, penalised = _design(leads, drivers, won)
    log_amount = np.log(np.where(won, amount, 1.0))
    out = _log_model(X, penalised, log_amount, won, np.ones(len(leads), dtype=bool))
    if "lead_type" in leads:
        kind = leads["lead_type"].astype("object").to_numpy()
        for value in pd.unique(kind[won]):
            mine = kind == value
            if (won & mine).sum() >= MIN_DEALS_FOR_MODEL:
                out[mine] = _log_model(X, penalised, log_amount, won & mine, mine)[mine]
    return out


def _log_model(
    X: np.ndarray, penalised: np.ndarray, log_amount: np.ndarray, fit_on: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """The smeared ``exp`` of a penalised fit of ``log_amount`` on ``X`` over ``fit_on``,
    for ``rows`` (nan elsewhere)."""
    coef, intercept, residual = _ridge_loo(X[fit_on], log_amount[fit_on], penalised)
    out = np.full(len(X), np.nan)
    out[rows] = np.exp(X[rows] @ coef + intercept) * float(np.mean(np.exp(residual)))
    return out


def _ridge_loo(X: np.ndarray, y: np.ndarray, penalised: np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """Least squares with a ridge penalty on the ``penalised`` columns only, its weight the
    one of ``_ALPHAS`` with the least leave-one-out error (``e_i / (1 - h_ii)``, exact for a
    linear smoother). Returns the coefficients, the intercept and the in-sample residuals."""
    x_mean, y_mean = X.mean(axis=0), float(y.mean())
    Xc, yc = X - x_mean, y - y_mean
    gram, xty = Xc.T @ Xc, Xc.T @ yc
    best = None
    for alpha in _ALPHAS if penalised.any() else _ALPHAS[:1]:
        inverse = np.linalg.pinv(gram + alpha * np.diag(penalised.astype(float)))
        coef = inverse @ xty
        residual = yc - Xc @ coef
        leverage = np.einsum("ij,jk,ik->i", Xc, inverse, Xc) + 1.0 / len(y)
        loo = float(np.mean((residual / np.clip(1.0 - leverage, 1e-9, None)) ** 2))
        if best is None or loo < best[0]:
            best = (loo, coef, residual)
    _, coef, residual = best
    return coef, y_mean - float(x_mean @ coef), residual


def amount_basis(leads: pd.DataFrame) -> str:
    """How ``expected_amounts`` values this history's deals, in words (for the summary's
    list of inputs)."""
    won = won_with_amount(leads)
    drivers = [c for c in AMOUNT_DRIVERS if c in leads]
    amount = leads["amount"].to_numpy(float) if "amount" in leads else np.zeros(0)
    if not won.any():
        return "no amounts"
    if won.sum() < MIN_DEALS_FOR_MODEL or not drivers or (amount[won] <= 0).any():
        return "mean won amount of the lead type" if "lead_type" in leads else "mean won amount"
    named = [d.replace("_", " ") for d in drivers]
    more = f" and {len(named) - 2} more" if len(named) > 2 else ""
    return "log-linear in " + ", ".join(named[:2]) + more


def amount_dispersion(leads: pd.DataFrame, expected: np.ndarray) -> float:
    """``E[amount^2] / E[expected^2]`` over the won deals: how much a deal's size spreads
    around its expected amount (1 without amounts)."""
    won = won_with_amount(leads)
    if won.sum() < 2:
        return 1.0
    actual = leads["amount"].to_numpy(float)[won]
    return float(np.sum(actual**2) / np.sum(expected[won] ** 2))


def _type_means(leads: pd.DataFrame, won: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """The mean won amount of each lead's type (the overall mean for another type)."""
    overall = float(amount[won].mean())
    if "lead_type" not in leads:
        return np.full(len(leads), overall)
    kind = leads["lead_type"].astype("object")
    by_type = pd.Series(amount[won]).groupby(kind[won].to_numpy()).mean()
    return kind.map(by_type).fillna(overall).to_numpy(float)


def _design(leads: pd.DataFrame, drivers: list[str], won: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Standardised columns: ``log1p`` of each numeric driver (missing at the won deals'
    median) and one indicator per category level with at least ``_MIN_LEVEL_DEALS`` won
    deals (the most frequent level, the rest, and missing values are the baseline); and
    which columns are category levels (penalised)."""
    columns, penalised = [], []
    for name in drivers:
        values = leads[name]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            x = pd.to_numeric(values, errors="coerce").to_numpy(float)
            x = np.log1p(np.clip(x, 0, None)) if np.nanmin(np.r_[x[won], 0.0]) >= 0 else x
            fill = np.nanmedian(x[won]) if np.isfinite(x[won]).any() else 0.0
            columns.append(np.where(np.isfinite(x), x, fill))
            penalised.append(False)
            continue
        level = values.astype("object").to_numpy()
        counts = pd.Series(level[won]).value_counts()
        for value in counts.index[counts >= _MIN_LEVEL_DEALS][1:]:
            columns.append((level == value).astype(float))
            penalised.append(True)
    if not columns:
        return np.zeros((len(leads), 1)), np.zeros(1, dtype=bool)
    X = np.column_stack(columns)
    mean, sd = X[won].mean(axis=0), X[won].std(axis=0)
    return (X - mean) / np.where(sd > 0, sd, 1.0), np.array(penalised)
