"""Penalised logistic regression on binned features, with bounds for monotone effects.

Every feature is a column of integer codes; the log-odds of row ``i`` are

    eta_i = intercept + sum_j table[codes[i, j]]        (codes already offset per feature)

and the table is linear in the parameters, ``table = A @ theta``. For an ordered (numeric)
feature the parameters are the steps between neighbouring bins (bin 0 is 0), so a bound
``step >= 0`` makes the effect non-decreasing and the penalty smooths neighbouring bins; for
a categorical feature they are the levels themselves. The objective, divided by the total
weight ``W``, is

    f = sum_i w_i [log(1 + exp(eta_i)) - y_i eta_i] / W + ||theta||^2 / (2 C W)

(scikit-learn's ``LogisticRegression`` convention; the intercept is not penalised).

The solver is a projected Newton method (Bertsekas 1982): parameters at a bound whose
gradient pushes outward are held, a Newton step is taken in the others and projected back
onto the bounds, with a backtracking (Armijo) line search. The gradient uses every row; the
Hessian uses a fixed subsample of ``hessian_rows`` rows, which keeps each iteration cheap and
still cuts the error by a large factor per iteration. It stops when the Newton decrement says
the log-likelihood can gain less than ``tol`` nats. The passes over the rows are compiled
kernels (they are where a fit spends its time: ``bench/bench_scorecard.py``), summing in fixed
chunks of rows so the result does not depend on the number of threads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import scipy.linalg
import scipy.sparse
from threadpoolctl import threadpool_limits

CHUNK_ROWS = 32_768


@numba.njit(parallel=True, cache=True)
def _loss_grad_kernel(codes, table, intercept, y, w):  # pragma: no cover
    n, f = codes.shape
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    grads = np.zeros((n_chunks, table.size + 1))
    losses = np.zeros(n_chunks)
    for c in numba.prange(n_chunks):
        lo = c * CHUNK_ROWS
        hi = min(n, lo + CHUNK_ROWS)
        g = grads[c]
        total = 0.0
        for i in range(lo, hi):
            eta = intercept
            for j in range(f):
                eta += table[codes[i, j]]
            if eta > 0.0:
                e = np.exp(-eta)
                loss = eta + np.log1p(e)
                p = 1.0 / (1.0 + e)
            else:
                e = np.exp(eta)
                loss = np.log1p(e)
                p = e / (1.0 + e)
            total += w[i] * (loss - y[i] * eta)
            r = w[i] * (p - y[i])
            g[table.size] += r
            for j in range(f):
                g[codes[i, j]] += r
        losses[c] = total
    return losses.sum(), grads.sum(axis=0)


@numba.njit(parallel=True, cache=True)
def _hessian_kernel(codes, table, intercept, w):  # pragma: no cover
    """``sum_i w_i p_i (1 - p_i) x_i x_i^T`` over table entries plus the intercept (last)."""
    n, f = codes.shape
    t = table.size + 1
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    hs = np.zeros((n_chunks, t, t))
    for c in numba.prange(n_chunks):
        lo = c * CHUNK_ROWS
        hi = min(n, lo + CHUNK_ROWS)
        h = hs[c]
        for i in range(lo, hi):
            eta = intercept
            for j in range(f):
                eta += table[codes[i, j]]
            p = 1.0 / (1.0 + np.exp(-eta))
            d = w[i] * p * (1.0 - p)
            h[t - 1, t - 1] += d
            for j in range(f):
                a = codes[i, j]
                h[a, t - 1] += d
                for k in range(j, f):
                    h[a, codes[i, k]] += d
    out = hs.sum(axis=0)
    return out


@numba.njit(parallel=True, cache=True)
def _totals_kernel(codes, a, b, size):  # pragma: no cover
    """Per table entry: the sums of ``a`` and of ``b`` over the rows that use it."""
    n, f = codes.shape
    n_chunks = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    out = np.zeros((n_chunks, 2, size))
    for c in numba.prange(n_chunks):
        lo = c * CHUNK_ROWS
        hi = min(n, lo + CHUNK_ROWS)
        o = out[c]
        for i in range(lo, hi):
            for j in range(f):
                o[0, codes[i, j]] += a[i]
                o[1, codes[i, j]] += b[i]
    return out.sum(axis=0)


def code_totals(codes: np.ndarray, a: np.ndarray, b: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``a`` and ``b`` per table entry (for example weights and weighted wins)."""
    if codes.shape[0] == 0:
        return np.zeros(size), np.zeros(size)
    t = _totals_kernel(codes, np.ascontiguousarray(a, dtype=float), np.ascontiguousarray(b, dtype=float), size)
    return t[0], t[1]


@numba.njit(parallel=True, cache=True)
def _eta_kernel(codes, table, intercept):  # pragma: no cover
    n, f = codes.shape
    out = np.empty(n)
    for i in numba.prange(n):
        eta = intercept
        for j in range(f):
            eta += table[codes[i, j]]
        out[i] = eta
    return out


def loss_grad(codes, table, intercept, y, w) -> tuple[float, np.ndarray, float]:
    """Weighted log loss, its gradient per table entry, and per intercept (compiled)."""
    loss, g = _loss_grad_kernel(codes, np.ascontiguousarray(table, dtype=float), float(intercept), y, w)
    return float(loss), g[:-1], float(g[-1])


def loss_grad_reference(codes, table, intercept, y, w) -> tuple[float, np.ndarray, float]:
    """The same with plain numpy: slow and obviously right, for tests."""
    eta = intercept + table[codes].sum(axis=1)
    loss = np.sum(w * (np.logaddexp(0.0, eta) - y * eta))
    r = w * (1.0 / (1.0 + np.exp(-eta)) - y)
    grad = np.bincount(codes.ravel(), weights=np.repeat(r, codes.shape[1]), minlength=table.size)
    return float(loss), grad, float(r.sum())


def hessian(codes, table, intercept, w) -> np.ndarray:
    """Hessian of the weighted log loss over ``[table entries..., intercept]`` (compiled)."""
    h = _hessian_kernel(codes, np.ascontiguousarray(table, dtype=float), float(intercept), w)
    return h + h.T - np.diag(np.diag(h))


def hessian_reference(codes, table, intercept, w) -> np.ndarray:
    """The same with a dense one-hot matrix, for tests."""
    eta = intercept + table[codes].sum(axis=1)
    p = 1.0 / (1.0 + np.exp(-eta))
    X = np.zeros((codes.shape[0], table.size + 1))
    for j in range(codes.shape[1]):
        X[np.arange(codes.shape[0]), codes[:, j]] += 1.0
    X[:, -1] = 1.0
    return X.T @ (X * (w * p * (1 - p))[:, None])


def linear_predictor(codes: np.ndarray, table: np.ndarray, intercept: float) -> np.ndarray:
    """``intercept + sum_j table[codes[:, j]]`` per row."""
    if codes.shape[0] == 0:
        return np.zeros(0)
    return _eta_kernel(codes, np.ascontiguousarray(table, dtype=float), float(intercept))


def _with_intercept(A: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
    """``B`` with ``[table..., intercept] = B @ z`` for ``z = [intercept, theta...]``."""
    n_params = A.shape[1]
    B = scipy.sparse.block_diag([A, scipy.sparse.csr_array(np.ones((1, 1)))], format="csr")
    return B[:, np.r_[n_params, np.arange(n_params)]]


@dataclass(frozen=True, slots=True)
class LogisticFit:
    intercept: float
    theta: np.ndarray
    table: np.ndarray
    n_iter: int
    converged: bool
    message: str


def fit_logistic(
    codes: np.ndarray,
    A: scipy.sparse.csr_array,
    lower: np.ndarray,
    upper: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    *,
    C: float,
    max_iter: int,
    tol: float,
    hessian_rows: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> LogisticFit:
    """Minimise the objective in the module docstring; ``codes`` index rows of ``A``.

    ``hessian_rows`` are the rows the Hessian is computed on (default: all); ``start`` is a
    first guess of ``[intercept, theta...]`` (projected onto the bounds), default all zero
    but the intercept at the base rate.
    """
    y = np.ascontiguousarray(y, dtype=float)
    w = np.ascontiguousarray(w, dtype=float)
    W = float(w.sum())
    n_params = A.shape[1]
    B = _with_intercept(A)
    B_t = B.T.tocsr()
    lo = np.concatenate([[-np.inf], lower])
    hi = np.concatenate([[np.inf], upper])
    penalty = np.full(n_params + 1, 1.0 / (C * W))
    penalty[0] = 0.0
    if hessian_rows is None:
        h_codes, h_w = codes, w
    else:
        h_codes, h_w = np.ascontiguousarray(codes[hessian_rows]), w[hessian_rows]
    h_scale = 1.0 / float(h_w.sum())

    def value_grad(z):
        table = A @ z[1:]
        loss, g_table, g_b = loss_grad(codes, table, z[0], y, w)
        g = B_t @ np.append(g_table, g_b) / W + penalty * z
        return loss / W + 0.5 * float(np.dot(penalty * z, z)), g

    if start is None:
        ybar = float(np.clip(np.dot(w, y) / W, 1e-9, 1 - 1e-9))
        z = np.clip(np.zeros(n_params + 1), lo, hi)
        z[0] = np.log(ybar / (1 - ybar))
    else:
        z = np.clip(np.asarray(start, dtype=float), lo, hi)
    f, g = value_grad(z)
    converged, message, n_iter = False, "reached max_iter", 0
    for it in range(1, max_iter + 1):
        n_iter = it
        h = B_t @ scipy.sparse.csr_array(hessian(h_codes, A @ z[1:], z[0], h_w) * h_scale) @ B
        H = h.toarray() if scipy.sparse.issparse(h) else np.asarray(h)
        H[np.diag_indices_from(H)] += penalty
        active = ((z <= lo) & (g > 0)) | ((z >= hi) & (g < 0))
        free = np.flatnonzero(~active)
        d = np.zeros_like(z)
        Hf = H[np.ix_(free, free)]
        Hf[np.diag_indices_from(Hf)] += 1e-12 * (1.0 + np.abs(np.diag(Hf)))
        try:
            # one BLAS thread: the kernels' idle OpenMP threads would fight a threaded solve
            with threadpool_limits(1, user_api="blas"):
                d[free] = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(Hf), g[free])
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            d[free] = -g[free] / np.maximum(np.diag(Hf), 1e-12)
        decrement = -float(np.dot(g, d)) * W  # nats the step expects to gain, times 2
        if decrement / 2 < tol:
            converged, message = True, "converged"
            break
        alpha = 1.0
        while True:
            z_new = np.clip(z + alpha * d, lo, hi)
            f_new, g_new = value_grad(z_new)
            if f_new <= f + 1e-4 * float(np.dot(g, z_new - z)) or alpha < 1e-8:
                break
            alpha *= 0.5
        if alpha < 1e-8:
            converged = (f - f_new) * W < tol
            message = "line search found no improvement"
            if f_new > f:
                break
        z, f, g = z_new, f_new, g_new
    theta = z[1:]
    return LogisticFit(
        intercept=float(z[0]),
        theta=theta,
        table=A @ theta,
        n_iter=n_iter,
        converged=converged,
        message=message,
    )


def refit_intercept(x: np.ndarray, y: np.ndarray, w: np.ndarray, *, start: float) -> float:
    """The intercept ``b`` with ``sum w sigmoid(b + x) = sum w y`` (Newton's method)."""
    target = float(np.dot(w, y))
    b = float(start)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(b + x)))
        g = float(np.dot(w, p)) - target
        h = float(np.dot(w, p * (1 - p)))
        if h <= 0:
            break
        step = g / h
        b -= float(np.clip(step, -5, 5))
        if abs(step) < 1e-12:
            break
    return b


def covariance(
    codes: np.ndarray,
    A: scipy.sparse.csr_array,
    fit: LogisticFit,
    w: np.ndarray,
    *,
    C: float,
    hessian_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Approximate covariance of ``[intercept, theta...]`` at a fit.

    The inverse of the penalised Hessian of the weighted log loss (not divided by ``W``):
    the Laplace approximation of the L2 penalty's posterior, with the weights taken as
    frequency weights (a row of weight 2 counts as two leads) and the bounds ignored (a
    parameter held at its bound is treated as free). With ``hessian_rows`` the Hessian is
    computed on those rows and scaled up to the total weight.
    """
    w = np.ascontiguousarray(w, dtype=float)
    if hessian_rows is None:
        h_codes, h_w = codes, w
    else:
        h_codes, h_w = np.ascontiguousarray(codes[hessian_rows]), w[hessian_rows]
    B = _with_intercept(A)
    scale = float(w.sum()) / float(h_w.sum())
    h = B.T.tocsr() @ scipy.sparse.csr_array(hessian(h_codes, fit.table, fit.intercept, h_w) * scale) @ B
    H = h.toarray() if scipy.sparse.issparse(h) else np.asarray(h)
    H[np.diag_indices_from(H)] += np.r_[0.0, np.full(A.shape[1], 1.0 / C)]
    with threadpool_limits(1, user_api="blas"):
        try:
            return scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), np.eye(H.shape[0]))
        except (np.linalg.LinAlgError, scipy.linalg.LinAlgError):
            return np.linalg.pinv(H, hermitian=True)
