"""Monotone constraints of a ``Scorecard``: from the user, or where the data show the sign.

``monotonic_cst="auto"`` decides each numeric feature from the data. The model is first
fitted with those features free (a feature the user named keeps the user's constraint), and
the evidence of a feature's direction is its *rank trend*: the weighted least-squares slope
of its bins' fitted log-odds on the bins' mid-ranks,

    trend_j = sum_k n_k (r_k - rbar) e_k / sum_k n_k (r_k - rbar)^2,
    r_k = (training weight below bin k + n_k / 2) / training weight,

with ``n_k`` the training weight of bin ``k`` and ``e_k`` its fitted effect (the missing bin
is left out). ``r`` runs from 0 (the lowest lead) to 1 (the highest), so ``trend_j`` is about
the change in log-odds from the lowest to the highest lead along the feature, and it does not
depend on the feature's scale (a rank statistic, as Spearman's correlation). Because ``e`` is
the effect of the feature *given the others*, a behaviour count is judged by what it adds to
the other counts: counts rise together with a lead's intent, so a marginal correlation would
lend a count that costs points the sign of its companions. The standard error is that of
the same linear combination of the effects under the fit's approximate covariance (the
inverse of the penalised Hessian, ``calibrate._logistic.covariance``), and ``z = trend / se``.

The rule: ``|z| >= AUTO_Z`` (3) constrains the feature to the sign of ``z``, anything less
leaves it free. Why 3: a feature without a trend passes with chance 0.27% (two-sided
normal), so among the ten or so numeric features of a lead table a noise feature is
constrained in about one fit of 40, and a sign read from ``|z| >= 3`` is wrong with chance
at most 0.13% (one tail); a weaker trend loses little by staying free, since the penalty on the steps
between neighbouring bins smooths it anyway. A strong overall trend with a bend (a peak in
the middle) is still constrained to its trend: name the feature with ``0`` to keep it free.
The weights are taken as frequency weights (a lead of weight 2 counts as two leads), so with
exploration weights the evidence is somewhat overstated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse

from calibrate._binning import CategoryBinning, NumericBinning

AUTO_Z = 3.0
SOURCES = ("auto", "user", "engagement", "none")


def requested_constraints(
    monotonic_cst: str | Mapping[str, int] | None,
    names: Sequence[str],
    kinds: Sequence[str],
    engagement: Sequence[str],
) -> tuple[list[int | None], list[str]]:
    """Per feature the constraint asked for (``+1``, ``-1``, ``0``, or ``None``: decide from
    the data) and where it comes from (one of ``SOURCES``); raises on a bad ``monotonic_cst``."""
    if monotonic_cst is None:
        return [0] * len(names), ["none"] * len(names)
    if isinstance(monotonic_cst, str):
        if monotonic_cst == "engagement":
            return [int(n in engagement) for n in names], ["engagement"] * len(names)
        if monotonic_cst != "auto":
            raise ValueError(
                "Scorecard.monotonic_cst must be 'auto', 'engagement', None or a mapping of "
                f"feature name to 1, -1 or 0, got {monotonic_cst!r}"
            )
        user: Mapping = {}
    elif isinstance(monotonic_cst, Mapping):
        user = monotonic_cst
    else:
        raise ValueError(
            "Scorecard.monotonic_cst must be 'auto', 'engagement', None or a mapping of "
            f"feature name to 1, -1 or 0, got {monotonic_cst!r}"
        )
    for n, v in user.items():
        if n not in names:
            raise ValueError(f"Scorecard.monotonic_cst names {n!r}, which is not a column of X")
        if v not in (-1, 0, 1):
            raise ValueError(f"Scorecard.monotonic_cst[{n!r}] must be 1, -1 or 0, got {v!r}")
        if v and kinds[names.index(n)] != "numeric":
            raise ValueError(
                f"Scorecard.monotonic_cst[{n!r}]: only numeric features can be monotone, {n!r} holds categories"
            )
    requested: list[int | None] = []
    for n, kind in zip(names, kinds, strict=True):
        if n in user:
            requested.append(int(user[n]))
        else:
            requested.append(None if kind == "numeric" else 0)
    return requested, ["user" if n in user else "auto" for n in names]


def table_covariance(A: scipy.sparse.csr_array, cov: np.ndarray) -> np.ndarray:
    """Covariance of the table entries ``A @ theta`` from that of ``[intercept, theta]``."""
    Ad = A.toarray() if scipy.sparse.issparse(A) else np.asarray(A)
    return Ad @ cov[1:, 1:] @ Ad.T


def trend_evidence(
    binnings: Sequence[NumericBinning | CategoryBinning],
    offsets: np.ndarray,
    code_weight: np.ndarray,
    table: np.ndarray,
    cov_table: np.ndarray,
    features: Sequence[int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rank trend of each numeric feature in ``features``, its standard error and ``z``
    (see the module docstring); a feature with one bin, or one bin with weight, has trend
    0, infinite standard error and ``z`` 0."""
    trend, se, z = (np.zeros(len(features)), np.full(len(features), np.inf), np.zeros(len(features)))
    for i, j in enumerate(features):
        b = binnings[j]
        k = b.n_bins
        n = np.asarray(code_weight[offsets[j] : offsets[j] + k], dtype=float)
        if k < 2 or np.count_nonzero(n > 0) < 2:
            continue
        r = (np.cumsum(n) - n / 2) / n.sum()
        rc = r - np.average(r, weights=n)
        c = np.zeros(table.size)
        c[offsets[j] : offsets[j] + k] = n * rc / np.dot(n, rc * rc)
        trend[i] = float(c @ table)
        var = float(c @ cov_table @ c)
        se[i] = np.sqrt(var) if var > 0 else np.inf
        z[i] = trend[i] / se[i] if np.isfinite(se[i]) else 0.0
    return trend, se, z


def decide(z: np.ndarray) -> np.ndarray:
    """The constraint the evidence gives: the sign of ``z`` where ``|z| >= AUTO_Z``, else 0."""
    z = np.asarray(z, dtype=float)
    return np.where(np.abs(z) >= AUTO_Z, np.sign(z), 0.0).astype(int)


def log_odds_se(
    binnings: Sequence[NumericBinning | CategoryBinning], offsets: np.ndarray, cov_table: np.ndarray
) -> list[np.ndarray]:
    """Per feature and code, the standard error of its effect relative to the feature's
    reference (the lowest bin; the missing group of a categorical feature that has one, else
    its unseen slot): 0 for the reference itself."""
    out = []
    for j, b in enumerate(binnings):
        idx = np.arange(offsets[j], offsets[j + 1])
        block = cov_table[np.ix_(idx, idx)]
        ref = b.missing_group if isinstance(b, CategoryBinning) and b.has_missing else None
        d = np.diag(block).copy()
        if ref is not None:
            d = d + block[ref, ref] - 2 * block[:, ref]
        out.append(np.sqrt(np.maximum(d, 0.0)))
    return out


def evidence_frame(
    names: Sequence[str],
    kinds: Sequence[str],
    axes: Sequence[str],
    sources: Sequence[str],
    monotone: Sequence[int],
    features: Sequence[int],
    trend: np.ndarray,
    se: np.ndarray,
    z: np.ndarray,
) -> pd.DataFrame:
    """``monotone_evidence_``: one row per numeric feature (see ``Scorecard``)."""
    where = {j: i for i, j in enumerate(features)}
    rows = []
    for j, name in enumerate(names):
        if kinds[j] != "numeric":
            continue
        i = where.get(j)
        ev = (np.nan, np.nan, np.nan) if i is None else (trend[i], se[i], z[i])
        rows.append((name, axes[j], *ev, int(monotone[j]), sources[j]))
    frame = pd.DataFrame(rows, columns=["feature", "axis", "trend", "se", "z", "monotone", "source"])
    return frame.set_index("feature")
