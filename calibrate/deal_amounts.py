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

from dataclasses import dataclass

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
    design = _Design.of(leads, drivers, won)
    log_amount = np.log(np.where(won, amount, 1.0))
    out = design.smeared_exp(won, log_amount, np.ones(len(leads), dtype=bool))
    if "lead_type" in leads:
        kind = _codes(leads["lead_type"])
        for value in np.unique(kind[won]):
            mine = kind == value
            if (won & mine).sum() >= MIN_DEALS_FOR_MODEL:
                out[mine] = design.smeared_exp(won & mine, log_amount, mine)[mine]
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
        leverage = np.sum((Xc @ inverse) * Xc, axis=1) + 1.0 / len(y)
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


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (-1 where missing)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(dtype=np.int64)
    return pd.Categorical(values.astype("object")).codes.astype(np.int64)


@dataclass(frozen=True)
class _Design:
    """The regression's columns without a lead-by-column matrix: a numeric driver as its
    ``log1p`` values (missing at the won deals' median), a categorical one as its level codes
    and the levels that get a column (at least ``_MIN_LEVEL_DEALS`` won deals, the most
    frequent one the baseline); every column standardised on the won deals."""

    numeric: list[np.ndarray]
    codes: list[np.ndarray]
    levels: list[np.ndarray]
    mean: np.ndarray
    sd: np.ndarray

    @classmethod
    def of(cls, leads: pd.DataFrame, drivers: list[str], won: np.ndarray) -> _Design:
        numeric, codes, levels = [], [], []
        for name in drivers:
            values = leads[name]
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                x = pd.to_numeric(values, errors="coerce").to_numpy(float)
                x = np.log1p(np.clip(x, 0, None)) if np.nanmin(np.r_[x[won], 0.0]) >= 0 else x
                fill = np.nanmedian(x[won]) if np.isfinite(x[won]).any() else 0.0
                numeric.append(np.where(np.isfinite(x), x, fill))
                continue
            code = _codes(values)
            counts = pd.Series(code[won][code[won] >= 0]).value_counts()
            codes.append(code)
            levels.append(np.asarray(counts.index[counts >= _MIN_LEVEL_DEALS][1:], dtype=np.int64))
        raw = cls(numeric, codes, levels, np.zeros(0), np.zeros(0))._columns(np.flatnonzero(won))
        sd = raw.std(axis=0)
        return cls(numeric, codes, levels, raw.mean(axis=0), np.where(sd > 0, sd, 1.0))

    @property
    def penalised(self) -> np.ndarray:
        """Which columns are category levels (ridge-penalised); the numeric ones come first."""
        return np.r_[np.zeros(len(self.numeric), dtype=bool), np.ones(sum(map(len, self.levels)), dtype=bool)]

    def _columns(self, rows: np.ndarray) -> np.ndarray:
        parts = [x[rows, None] for x in self.numeric]
        parts += [(c[rows, None] == lv[None, :]).astype(float) for c, lv in zip(self.codes, self.levels, strict=True)]
        return np.hstack(parts) if parts else np.zeros((rows.size, 0))

    def linear(self, coef: np.ndarray, intercept: float, rows: np.ndarray) -> np.ndarray:
        """``intercept + X[rows] @ coef`` on the standardised columns, without building them:
        a category level's part is looked up by its code."""
        beta = coef / self.sd
        out = np.full(rows.size, intercept - float(self.mean @ beta))
        for k, x in enumerate(self.numeric):
            out += beta[k] * x[rows]
        k = len(self.numeric)
        for c, lv in zip(self.codes, self.levels, strict=True):
            table = np.zeros(int(c.max()) + 2)  # a missing value (code -1) reads the last entry, 0
            table[lv] = beta[k : k + lv.size]
            out += table[c[rows]]
            k += lv.size
        return out

    def smeared_exp(self, fit_on: np.ndarray, log_amount: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The smeared ``exp`` of a penalised fit of ``log_amount`` over ``fit_on``, for
        ``rows`` (nan elsewhere)."""
        on = np.flatnonzero(fit_on)
        X = (self._columns(on) - self.mean) / self.sd
        coef, intercept, residual = _ridge_loo(X, log_amount[on], self.penalised)
        out = np.full(rows.size, np.nan)
        out[rows] = np.exp(self.linear(coef, intercept, np.flatnonzero(rows))) * float(np.mean(np.exp(residual)))
        return out
