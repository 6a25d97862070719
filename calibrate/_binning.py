"""Binning of one feature column: numeric bins by weighted quantiles, categories with pooling.

Both binners see only ``(value, weight)`` pairs with positive weight, so a row of weight 2 and
two equal rows of weight 1 give the same bins, and a row of weight 0 changes nothing.

Codes: a numeric column with ``K = len(edges) + 1`` bins gets codes ``0..K-1`` for values
(bin ``k`` is ``edges[k-1] <= x < edges[k]``, the same rule as ``simulate.rules.Bins``) and ``K`` for
a missing value. A categorical column with ``G`` groups gets codes ``0..G-1`` for its groups
(kept values, then "other" for pooled rare values, then "missing") and ``G`` for a value never
seen in training. Groups and the missing bin exist only when at least ``min_bin_weight`` of
weight falls in them; lighter rare values, and a lighter missing share, take the reference
slot (the unseen slot of a categorical column, bin 0's effect for a numeric one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse

from calibrate._validation import numeric_values
from simulate.rules import Bins

OTHER = "(other)"
MISSING = "(missing)"


@dataclass(frozen=True, slots=True, eq=False)
class NumericBinning:
    """Bins of a numeric column: ``edges`` strictly increasing, ``has_missing`` if seen."""

    edges: np.ndarray
    has_missing: bool
    weights: np.ndarray  # training weight per code (bins, then missing)
    integer: bool = False  # every training value is a whole number (a count)
    low: float = -np.inf  # smallest training value

    @property
    def n_bins(self) -> int:
        return self.edges.size + 1

    @property
    def n_codes(self) -> int:
        """Bins plus the missing slot (always present in the code table)."""
        return self.n_bins + 1

    def codes(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        out = np.searchsorted(self.edges, x, side="right").astype(np.int32)
        out[np.isnan(x)] = self.n_bins
        return out

    def labels(self) -> list[str]:
        """Readable bin labels: ``"0"``, ``"2-4"``, ``"5+"`` for counts, ``"14 to <23"`` else."""
        e = [*self.edges.tolist()]
        if not e:
            return ["all", MISSING]
        if self.integer:
            lows = [self.low, *e]
            out = [f"{lo:g}" if hi - lo == 1 else f"{lo:g}-{hi - 1:g}" for lo, hi in zip(lows, e, strict=False)]
            out.append(f"{e[-1]:g}+")
        else:
            out = [
                f"<{e[0]:g}",
                *(f"{lo:g} to <{hi:g}" for lo, hi in zip(e, e[1:], strict=False)),
                f">={e[-1]:g}",
            ]
        return out + [MISSING]


@dataclass(frozen=True, slots=True, eq=False)
class CategoryBinning:
    """Groups of a categorical column: one per kept value, then "other", then "missing"."""

    values: tuple[str, ...]  # every value seen with positive weight, sorted
    group_of_value: np.ndarray  # group index of each value
    group_names: tuple[str, ...]
    has_missing: bool
    weights: np.ndarray  # training weight per code (groups, then unseen)

    @property
    def n_codes(self) -> int:
        """Groups plus the slot for values never seen in training."""
        return len(self.group_names) + 1

    @property
    def missing_group(self) -> int | None:
        return len(self.group_names) - 1 if self.has_missing else None

    def codes(self, values) -> np.ndarray:
        """Group code per value; unseen values (and missing, if unseen) get ``len(group_names)``."""
        codes, names = factorize_text(values)
        unseen = len(self.group_names)
        index = pd.Index(self.values, dtype=object).get_indexer(pd.Index(names, dtype=object))
        if len(self.values) == 0:  # nothing but missing values in training
            lookup = np.full(index.shape, unseen)
        else:
            lookup = np.where(index >= 0, self.group_of_value[np.maximum(index, 0)], unseen)
        lookup[lookup < 0] = unseen  # values too rare to judge count as unseen
        missing = self.missing_group if self.has_missing else unseen
        return np.append(lookup, missing).astype(np.int32)[codes]  # code -1 picks the last slot


def factorize_text(values) -> tuple[np.ndarray, np.ndarray]:
    """Integer code per row (``-1`` for missing) and the text of each code.

    Values are compared as text (``str(value)``), so the codes of a column do not depend on
    whether it arrives as strings, a pandas categorical or an object array.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, uniques = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)
    names = np.asarray([str(u) for u in uniques], dtype=object)
    return np.asarray(codes, dtype=np.int64), names


def _weighted_unique(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values with positive weight, sorted, and their total weight."""
    keep = ~np.isnan(x) & (w > 0)
    x, w = x[keep], w[keep]
    if x.size and np.all(np.isfinite(x)):
        lo, hi = x.min(), x.max()
        if hi - lo < 1_000_000 and np.all(x == np.round(x)):  # whole numbers: count, do not sort
            total = np.bincount((x - lo).astype(np.int64), weights=w)
            present = np.flatnonzero(total > 0)
            return present + lo, total[present]
    u, inverse = np.unique(x, return_inverse=True)
    return u, np.bincount(inverse, weights=w, minlength=u.size)


def numeric_binning(x: np.ndarray, w: np.ndarray, *, max_bins: int, min_bin_weight: float) -> NumericBinning:
    """Bins of about equal weight.

    A value heavier than one bin's share (an atom, such as 0 page views) gets a bin of its
    own and the rest of the weight is shared among the remaining bins; bins lighter than
    ``min_bin_weight`` are then merged into their lighter neighbour. Edges are observed
    values, so a count column gets whole-number edges ("3 or more page views").
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    missing_w = float(w[np.isnan(x)].sum())
    has_missing = missing_w > 0 and missing_w >= min_bin_weight  # else missing counts as the lowest bin
    u, wu = _weighted_unique(x, w)
    first: list[int] = []
    if u.size > 1:
        total = wu.sum()
        atom = wu >= total / max_bins
        slots = max(max_bins - int(atom.sum()), 1)
        piece = max((total - wu[atom].sum()) / slots, min_bin_weight, 1e-300)
        starts = np.zeros(u.size, dtype=bool)
        starts[1:] = atom[1:] | atom[:-1]  # an atom starts a bin and ends one
        run = np.cumsum(starts)  # runs of values between atoms
        mass = np.where(atom, 0.0, wu)
        before = np.cumsum(mass) - mass  # non-atom weight before each value
        run_first = np.flatnonzero(np.r_[True, run[1:] != run[:-1]])
        piece_id = np.floor((before - before[run_first][run]) / piece + 1e-9)
        starts[1:] |= (piece_id[1:] > piece_id[:-1]) & (run[1:] == run[:-1])
        first = np.flatnonzero(starts).tolist()
        bin_w = np.add.reduceat(wu, np.r_[0, first].astype(np.int64)).tolist()
        while len(bin_w) > 1 and min(bin_w) < min_bin_weight:
            k = int(np.argmin(bin_w))
            if k == 0:
                j = 1
            elif k == len(bin_w) - 1:
                j = k - 1
            else:
                j = k - 1 if bin_w[k - 1] <= bin_w[k + 1] else k + 1
            lo = min(j, k)
            bin_w[lo] += bin_w.pop(lo + 1)
            del first[lo]  # the boundary between bins lo and lo + 1
    edges = u[np.asarray(first, dtype=np.int64)].astype(float)
    codes = NumericBinning(edges=edges, has_missing=has_missing, weights=np.empty(0)).codes(x)
    weights = np.bincount(codes, weights=w, minlength=edges.size + 2)
    integer = bool(u.size and np.all(np.mod(u, 1) == 0) and np.all(np.isfinite(u)))
    return NumericBinning(
        edges=edges, has_missing=has_missing, weights=weights, integer=integer, low=float(u[0]) if u.size else -np.inf
    )


def category_binning(values, w: np.ndarray, *, min_bin_weight: float) -> CategoryBinning:
    """One group per value with at least ``min_bin_weight``; lighter values pooled as "other"."""
    w = np.asarray(w, dtype=float)
    codes, names = factorize_text(values)
    positive = w > 0
    seen = codes >= 0
    ok = seen & positive
    name_w = np.bincount(codes[ok], weights=w[ok], minlength=names.size)
    per_value = pd.Series(name_w, dtype=float).groupby(pd.Index(names, dtype=object)).sum()
    per_value = per_value[per_value > 0].sort_index()
    values_sorted = tuple(str(v) for v in per_value.index)
    heavy = per_value.to_numpy() >= min_bin_weight
    group_names = [v for v, h in zip(values_sorted, heavy, strict=False) if h]
    group_of_value = np.cumsum(heavy) - 1
    if not heavy.all():
        pooled = float(per_value.to_numpy()[~heavy].sum())
        # rare values share an "(other)" group if together they are heavy enough, else they
        # count as unseen (the reference, like a value the rules do not list)
        group_of_value = np.where(heavy, group_of_value, len(group_names) if pooled >= min_bin_weight else -1)
        if pooled >= min_bin_weight:
            group_names.append(OTHER)
    missing_w = float(w[~seen & positive].sum())
    has_missing = missing_w > 0 and missing_w >= min_bin_weight
    if has_missing:
        group_names.append(MISSING)
    if len(group_names) < 2:  # one value all but everywhere: nothing to learn, no parameter
        group_names, has_missing = [], False
        group_of_value = np.full(len(values_sorted), -1)
    binning = CategoryBinning(
        values=values_sorted,
        group_of_value=np.asarray(group_of_value, dtype=np.int32),
        group_names=tuple(group_names),
        has_missing=has_missing,
        weights=np.empty(0),
    )
    weights = np.bincount(binning.codes(values), weights=w, minlength=binning.n_codes)
    return CategoryBinning(
        values=binning.values,
        group_of_value=binning.group_of_value,
        group_names=binning.group_names,
        has_missing=has_missing,
        weights=weights,
    )


# --- every feature at once: codes, the parametrisation of the effects, rules ---------------
def encode(frame: pd.DataFrame, names, kinds, binnings) -> tuple[np.ndarray, np.ndarray]:
    """Codes of every row, offset per feature into one table; and the offsets."""
    sizes = [b.n_codes for b in binnings]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    codes = np.empty((frame.shape[0], len(names)), dtype=np.int32)
    for j, name in enumerate(names):
        col = frame.iloc[:, j]
        if kinds[j] == "numeric":
            codes[:, j] = binnings[j].codes(numeric_values(col, name)) + offsets[j]
        else:
            codes[:, j] = binnings[j].codes(col) + offsets[j]
    return codes, offsets


def parametrise(binnings, monotone) -> tuple[scipy.sparse.csr_array, np.ndarray, np.ndarray]:
    """``table = A @ theta`` with bounds on theta (see ``calibrate._logistic``).

    A numeric feature's parameters are the steps between neighbouring bins (bin 0 is 0), each
    bounded below by 0 where it must not fall (``monotone`` +1) or above where it must not
    rise (-1), then a free level for the missing bin; a categorical feature's are the levels
    of its groups (values never seen share the missing group's level, if there is one).
    """
    rows, cols, lower, upper = [], [], [], []
    base = 0
    for b, m in zip(binnings, monotone, strict=False):
        if isinstance(b, NumericBinning):
            k = b.n_bins
            for step in range(1, k):  # step `step` lifts bins step..k-1
                p = len(lower)
                rows += list(range(base + step, base + k))
                cols += [p] * (k - step)
                lower.append(0.0 if m > 0 else -np.inf)
                upper.append(0.0 if m < 0 else np.inf)
            if b.has_missing:
                rows.append(base + k)
                cols.append(len(lower))
                lower.append(-np.inf)
                upper.append(np.inf)
        else:
            for g in range(len(b.group_names)):
                p = len(lower)
                rows.append(base + g)
                cols.append(p)
                if g == b.missing_group:
                    rows.append(base + len(b.group_names))  # unseen values count as missing
                    cols.append(p)
                lower.append(-np.inf)
                upper.append(np.inf)
        base += b.n_codes
    A = scipy.sparse.csr_array(
        (np.ones(len(rows)), (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64))),
        shape=(base, len(lower)),
    )
    return A, np.asarray(lower), np.asarray(upper)


def compact_bins(edges: np.ndarray, points: np.ndarray, missing: int) -> Bins:
    """``Bins`` with neighbouring bins of equal points merged (the same scores, shorter)."""
    keep = [i for i in range(1, points.size) if points[i] != points[i - 1]]
    return Bins(
        edges=tuple(float(edges[i - 1]) for i in keep),
        points=tuple(int(points[i]) for i in [0, *keep]),
        missing=int(missing),
    )
