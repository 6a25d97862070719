"""The sparse scorecard: few rules with round edges, as a CRM's scoring screen holds them.

``Scorecard(max_rules=N)`` fits the full card first and then rewrites its criteria:

1. *Monotone runs.* A numeric feature's effects are made monotone by a weighted isotonic
   fit (pool adjacent violators) in the direction the full card was constrained to, or,
   for a free feature, in the direction of its weighted trend; the zig-zags are gone and
   neighbouring bins of equal effect merge.
2. *Round edges.* Every remaining edge moves to the round number nearest to it in rank
   (the share of training weight below it): a whole number up to 10, else ``1, 2, 5 x
   10^k`` (``round_numbers``), so "company size 50 / 200 / 1,000", not "24.0 / 44.0";
   choosing by rank keeps each bin as populated as the original edge left it. Bins lighter
   than ``min_bin_size`` then join their lighter neighbour.
3. *Zero-point rows dropped.* A category whose full-card points are 0 joins the reference
   (the rules give it nothing, as before).
4. *At most N rules.* A rule is a non-reference bin or group (what a CRM needs a line for).
   Greedily, while there are more than N, the merge that costs the least training AUC goes:
   two neighbouring bins, a numeric missing bin into the reference, two categories of
   neighbouring effect, or a category into the reference. The AUC is that of the integer
   score, the merged bin's effect the weighted mean of its parts.
5. *Refit.* The weights are fitted again on the new bins with the full card's solver,
   penalty and monotone directions, rounded to points, and the intercept refitted; bins
   and groups that round to 0 then join the reference and it is fitted once more.

``card.sparse_report_`` says what it cost: the training AUC of the full and the sparse
card's integer scores and the number of rules of each (``SparseReport.summary()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from calibrate._binning import CategoryBinning, NumericBinning, _weighted_unique, encode
from calibrate._validation import numeric_values
from calibrate.crm_scoring_export import rule_rows

GREEDY_ROWS = 60_000  # rows the greedy merge scores its candidates on


@dataclass(frozen=True, slots=True)
class SparseReport:
    """What the sparse card cost against the full card, on the training leads.

    ``full_auc`` and ``sparse_auc`` are ROC AUCs of the integer scores (weighted by the
    sample weights); ``full_rules`` and ``sparse_rules`` count the lines a CRM needs
    (non-zero points per bin or category group).
    """

    max_rules: int
    full_rules: int
    sparse_rules: int
    full_auc: float
    sparse_auc: float

    @property
    def auc_cost(self) -> float:
        """Training AUC given up for the sparse card (full minus sparse)."""
        return self.full_auc - self.sparse_auc

    def summary(self) -> str:
        """One line: the rules and the AUC of both cards."""
        return (
            f"Sparse card: {self.sparse_rules} rules (at most {self.max_rules}; the full card "
            f"has {self.full_rules}).\nTraining AUC {self.sparse_auc:.3f} against the full "
            f"card's {self.full_auc:.3f}: a cost of {self.auc_cost:.3f}."
        )

    def __str__(self) -> str:
        return self.summary()


def round_numbers(low: float, high: float, *, integer: bool) -> np.ndarray:
    """The round numbers in ``(low, high]``: ``0``, whole numbers up to 10 for a whole-number
    feature, and ``+-1, 2, 5 x 10^k``.

    >>> round_numbers(0, 3000, integer=False).tolist()[:6], round_numbers(0, 3000, integer=False).tolist()[-3:]
    ([0.001, 0.002, 0.005, 0.01, 0.02, 0.05], [500.0, 1000.0, 2000.0])
    """
    top = max(abs(low), abs(high), 1.0)
    ladder = [m * 10.0**k for k in range(-3, int(math.log10(top)) + 2) for m in (1, 2, 5)]
    ladder = [round(v, 3) for v in ladder]
    values = {0.0, *ladder, *(-v for v in ladder)}
    if integer:
        values |= {float(v) for v in range(-10, 11)}
        values = {v for v in values if v == round(v)}
    return np.array(sorted(v for v in values if low < v <= high), dtype=float)


def is_round(value: float) -> bool:
    """Whether ``value`` is one of ``round_numbers`` (a whole number up to 10, or 1, 2, 5 x 10^k)."""
    v = abs(float(value))
    if v == 0 or (v <= 10 and v == round(v)):
        return True
    k = math.floor(math.log10(v))
    return any(math.isclose(v, m * 10.0**k, rel_tol=1e-9) for m in (1, 2, 5))


# --- step 1-2: monotone runs with round edges ------------------------------------------
def _direction(c) -> int:
    """The monotone direction of a numeric criterion: its constraint, else its trend's sign."""
    if c.monotone:
        return int(c.monotone)
    k = c.binning.n_bins
    w, v = c.weight[:k], c.log_odds[:k]
    if w.sum() <= 0:
        return 1
    i = np.arange(k)
    mi, mv = np.average(i, weights=w), np.average(v, weights=w)
    return 1 if np.sum(w * (i - mi) * (v - mv)) >= 0 else -1


def _round_edges(c, x: np.ndarray, w: np.ndarray, min_bin_weight: float) -> np.ndarray:
    """The edges of ``c``'s monotone runs moved to round numbers near them in rank."""
    b = c.binning
    k = b.n_bins
    if k < 2:
        return b.edges
    direction = _direction(c)
    weight = np.maximum(c.weight[:k], 1e-12)
    iso = IsotonicRegression(increasing=direction > 0).fit_transform(np.arange(k), c.log_odds[:k], sample_weight=weight)
    run_edges = [b.edges[i - 1] for i in range(1, k) if not math.isclose(iso[i], iso[i - 1], abs_tol=1e-9)]
    u, wu = _weighted_unique(x, w)
    if not run_edges or u.size < 2:
        return np.asarray(run_edges, dtype=float)
    below = np.cumsum(wu) - wu  # weight strictly below each distinct value
    total = wu.sum()

    def rank(v):  # share of the weight below v (a bin is lo <= x < hi)
        return below[np.searchsorted(u, v, side="left")] / total if v <= u[-1] else 1.0

    candidates = round_numbers(u[0], u[-1], integer=b.integer)
    cand_rank = np.array([rank(v) for v in candidates])
    edges: list[float] = []
    for e in run_edges:
        if not candidates.size:
            break
        r = rank(e)
        best = float(candidates[np.argmin(np.abs(cand_rank - r))])
        if (not edges or best > edges[-1]) and 0 < rank(best) < 1:
            edges.append(best)
    return _merge_light(np.asarray(edges), u, wu, min_bin_weight)


def _merge_light(edges: np.ndarray, u: np.ndarray, wu: np.ndarray, min_bin_weight: float) -> np.ndarray:
    """Drop edges until every bin holds at least ``min_bin_weight`` (the lighter neighbour joins)."""
    edges = list(edges)
    while edges:
        bin_w = np.bincount(np.searchsorted(edges, u, side="right"), weights=wu, minlength=len(edges) + 1)
        k = int(np.argmin(bin_w))
        if bin_w[k] >= min_bin_weight:
            break
        if k == 0:
            del edges[0]
        elif k == len(edges):
            del edges[-1]
        else:
            del edges[k - 1 if bin_w[k - 1] <= bin_w[k + 1] else k]
    return np.asarray(edges, dtype=float)


def _numeric(b: NumericBinning, edges: np.ndarray, has_missing: bool) -> NumericBinning:
    return NumericBinning(
        edges=np.asarray(edges, dtype=float), has_missing=has_missing, weights=np.empty(0), integer=b.integer, low=b.low
    )


def _categories(b: CategoryBinning, group_of_value: np.ndarray, names: list[str]) -> CategoryBinning:
    """``b`` with its values regrouped: ``group_of_value`` indexes ``names`` (``-1``: reference)."""
    return CategoryBinning(
        values=b.values,
        group_of_value=np.asarray(group_of_value, dtype=np.int32),
        group_names=tuple(names),
        has_missing=b.has_missing,
        weights=np.empty(0),
    )


# --- step 4: greedy merging to at most N rules -----------------------------------------
@dataclass(slots=True, eq=False)
class _Feature:
    """One feature during the greedy merge: the group of each code and each group's effect."""

    kind: str
    group: np.ndarray  # group id of each code of the binning
    value: dict[int, float]  # log-odds estimate per group id
    weight: dict[int, float]
    ref: int  # the group that gets 0 points
    missing: int | None  # numeric: the code of a missing bin of its own

    def rules(self) -> int:
        return sum(1 for g, wg in self.weight.items() if wg > 0 and g != self.ref)

    def points(self, factor: float) -> np.ndarray:
        ref = self.value[self.ref]
        return np.array([round((self.value[g] - ref) * factor) for g in self.group], dtype=np.int64)

    def candidates(self):
        """Pairs of groups a merge may join (each joins two and drops one rule)."""
        groups = [g for g, wg in self.weight.items() if wg > 0 or g == self.ref]
        if self.kind == "numeric":
            runs = [g for g in dict.fromkeys(self.group.tolist()) if g in groups and g != self.missing]
            pairs = list(zip(runs, runs[1:], strict=False))
            if self.missing is not None and self.missing in groups and self.missing != self.ref:
                pairs.append((self.ref, self.missing))
            return pairs
        # the reference (of no training weight when blanks have no group of their own) joins
        # the value next to it: that value then gets 0 points, the others shift alike
        ordered = sorted(groups, key=lambda g: self.value[g])
        return list(zip(ordered, ordered[1:], strict=False))

    def merged(self, a: int, b: int) -> _Feature:
        keep, drop = (a, b) if a == self.ref or (b != self.ref and a < b) else (b, a)
        value, weight = dict(self.value), dict(self.weight)
        total = weight[a] + weight[b]
        value[keep] = (value[a] * weight[a] + value[b] * weight[b]) / total if total > 0 else value[keep]
        weight[keep] = total
        del value[drop], weight[drop]
        group = np.where(self.group == drop, keep, self.group)
        missing = None if self.missing == drop else self.missing
        return _Feature(self.kind, group, value, weight, self.ref, missing)


def _auc_of_ints(score: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
    """Weighted ROC AUC of an integer score, ties counted half (from the score's histogram)."""
    s = score - score.min()
    pos = np.bincount(s, weights=w * y)
    neg = np.bincount(s, weights=w * (1 - y))
    below = np.cumsum(neg) - neg
    return float(np.sum(pos * (below + 0.5 * neg)) / (pos.sum() * neg.sum()))


def _greedy(features: list[_Feature], codes: np.ndarray, y, w, factor: float, max_rules: int) -> list[_Feature]:
    """Merge groups, cheapest in AUC first, until at most ``max_rules`` rules are left."""
    pts = [f.points(factor) for f in features]
    score = sum(p[codes[:, j]] for j, p in enumerate(pts))
    while sum(f.rules() for f in features) > max_rules:
        best = None
        for j, f in enumerate(features):
            for a, b in f.candidates():
                g = f.merged(a, b)
                p = g.points(factor)
                trial = score - pts[j][codes[:, j]] + p[codes[:, j]]
                key = (-_auc_of_ints(trial, y, w), f.weight[a] + f.weight[b])
                if best is None or key < best[0]:
                    best = (key, j, g, p, trial)
        if best is None:
            break
        _, j, features[j], pts[j], score = best
    return features


# --- the driver -------------------------------------------------------------------------
def sparse_copy(card, X, y, sample_weight=None, *, max_rules: int = 25):
    """A sparse card made from a fitted full ``card`` and its training data, without fitting
    the full card again (``Scorecard(max_rules=...).fit`` does both).

    Parameters
    ----------
    card : a fitted ``Scorecard`` (left as it is).
    X, y, sample_weight : the data it was fitted on.
    max_rules : at most this many rules.

    Returns
    -------
    Scorecard
        A copy of ``card`` with ``max_rules`` set, sparse criteria and ``sparse_report_``.
    """
    import copy

    from sklearn.utils.validation import check_is_fitted, validate_data

    from calibrate._validation import as_frame, binary_target, sample_weights

    check_is_fitted(card)
    if getattr(card, "sparse_report_", None) is not None:
        raise ValueError("sparse_copy needs the full card; this one is sparse already")
    out = copy.deepcopy(card)
    out.max_rules = max_rules
    out._check_params()
    frame = as_frame(X, out)
    validate_data(out, X, skip_check_array=True, reset=False)
    _, yb = binary_target(y, len(frame))
    sparsify(out, frame, yb, sample_weights(sample_weight, len(frame)))
    return out


def sparsify(card, frame: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> None:
    """Rewrite the fitted ``card``'s criteria as a sparse card (the module docstring's steps);
    sets ``card.sparse_report_``."""
    factor = card.points_to_double_odds / math.log(2.0)
    names = [c.name for c in card.criteria_]
    kinds = [c.kind for c in card.criteria_]
    full_codes, full_offsets = encode(frame, names, kinds, [c.binning for c in card.criteria_])
    full_points = np.concatenate([c.points for c in card.criteria_]).astype(np.int64)
    full_auc = _auc_of_ints(full_points[full_codes].sum(axis=1), y, w)
    full_rules = len(rule_rows(card.rules_))
    min_bin_weight = card.min_bin_size * float(w.sum())

    binnings, effect = [], np.zeros(full_codes.shape)
    for j, c in enumerate(card.criteria_):
        local = full_codes[:, j] - full_offsets[j]
        if c.kind == "numeric":
            x = numeric_values(frame.iloc[:, j], c.name)
            binnings.append(_numeric(c.binning, _round_edges(c, x, w, min_bin_weight), c.binning.has_missing))
            k = c.binning.n_bins
            iso = IsotonicRegression(increasing=_direction(c) > 0).fit_transform(
                np.arange(k), c.log_odds[:k], sample_weight=np.maximum(c.weight[:k], 1e-12)
            )
            effect[:, j] = np.r_[iso, c.log_odds[k]][local]
        else:
            binnings.append(c.binning)
            effect[:, j] = c.log_odds[local]
    codes, offsets = encode(frame, names, kinds, binnings)
    features = [
        _start(card.criteria_[j], binnings[j], codes[:, j] - offsets[j], effect[:, j], w) for j in range(len(names))
    ]
    rows = _greedy_rows(len(y), card.random_state)
    local = (codes - offsets[:-1])[rows]
    features = _greedy(features, local, y[rows], w[rows], factor, int(card.max_rules))
    for _ in range(2):  # refit; then fold the groups that rounded to 0 into the reference, refit again
        binnings = [_regrouped(b, f) for b, f in zip(binnings, features, strict=True)]
        _refit(card, frame, names, kinds, binnings, y, w)
        changed = False
        for j, c in enumerate(card.criteria_):
            folded = _fold_zeros(c)
            changed |= folded is not None
            features[j] = folded if folded is not None else _identity(c)
        if not changed:
            break
    codes, _ = encode(frame, names, kinds, [c.binning for c in card.criteria_])
    points = np.concatenate([c.points for c in card.criteria_]).astype(np.int64)
    card.sparse_report_ = SparseReport(
        max_rules=int(card.max_rules),
        full_rules=full_rules,
        sparse_rules=len(rule_rows(card.rules_)),
        full_auc=full_auc,
        sparse_auc=_auc_of_ints(points[codes].sum(axis=1), y, w),
    )


def _greedy_rows(n: int, random_state) -> np.ndarray:
    if n <= GREEDY_ROWS:
        return np.arange(n)
    from calibrate.scorecard import _generator

    return np.sort(_generator(random_state).choice(n, size=GREEDY_ROWS, replace=False))


def _start(c, binning, local: np.ndarray, effect: np.ndarray, w: np.ndarray) -> _Feature:
    """The greedy's starting groups of one feature: every code its own group but the
    reference's (numeric: bin 0, and missing values unless they have a bin; categorical:
    unseen values, the missing group and the categories of 0 points)."""
    n = binning.n_codes
    group = np.arange(n)
    missing = None
    if c.kind == "numeric":
        ref = 0
        if binning.has_missing:
            missing = n - 1
        else:
            group[n - 1] = ref
    else:
        ref = n - 1
        zero = np.flatnonzero(c.points[: n - 1] == 0)
        group[zero] = ref
        if binning.has_missing:
            group[binning.missing_group] = ref
    gid = group[local]
    weight = np.bincount(gid, weights=w, minlength=n)
    total = np.bincount(gid, weights=w * effect, minlength=n)
    ids = sorted(set(group.tolist()))
    value = {g: total[g] / weight[g] if weight[g] > 0 else 0.0 for g in ids}
    return _Feature(c.kind, group, value, {g: float(weight[g]) for g in ids}, ref, missing)


def _identity(c) -> _Feature:
    n = c.binning.n_codes
    ref = 0 if c.kind == "numeric" else n - 1
    group = np.arange(n)
    if c.kind == "numeric" and not c.binning.has_missing:
        group[n - 1] = 0
    if c.kind == "categorical" and c.binning.has_missing:
        group[c.binning.missing_group] = ref
    missing = n - 1 if c.kind == "numeric" and c.binning.has_missing else None
    ids = sorted(set(group.tolist()))
    return _Feature(c.kind, group, dict.fromkeys(ids, 0.0), dict.fromkeys(ids, 1.0), ref, missing)


def _fold_zeros(c) -> _Feature | None:
    """Groups for ``c`` with neighbouring bins of equal points joined and categories of 0
    points (a numeric missing bin of 0 points too) in the reference; ``None`` if none."""
    f = _identity(c)
    pts = c.points
    changed = False
    if c.kind == "numeric":
        k = c.binning.n_bins
        for i in range(1, k):
            if pts[i] == pts[i - 1]:
                f.group[f.group == i] = f.group[i - 1]
                changed = True
        if f.missing is not None and pts[k] == 0:
            f.group[k] = 0
            f.missing = None
            changed = True
    else:
        for g in range(len(c.binning.group_names)):
            if pts[g] == 0 and f.group[g] != f.ref:
                f.group[g] = f.ref
                changed = True
    return f if changed else None


def _regrouped(b, f: _Feature):
    """The binning ``b`` with the feature's groups merged."""
    if isinstance(b, NumericBinning):
        k = b.n_bins
        keep = [i for i in range(1, k) if f.group[i] != f.group[i - 1]]
        return _numeric(b, b.edges[np.asarray(keep, dtype=np.int64) - 1], f.missing is not None)
    n_groups = len(b.group_names)
    missing = b.missing_group
    order = [g for g in dict.fromkeys(f.group[:n_groups].tolist()) if g != f.ref]
    names = [" | ".join(b.group_names[i] for i in range(n_groups) if f.group[i] == g) for g in order]
    new_of_old = np.array([order.index(g) if g != f.ref else -1 for g in f.group[:n_groups]], dtype=np.int64)
    if missing is not None:
        names.append(b.group_names[missing])
        new_of_old[missing] = len(names) - 1
    old = b.group_of_value
    group_of_value = np.where(old >= 0, new_of_old[np.maximum(old, 0)], -1)
    return _categories(b, group_of_value, names)


def _refit(card, frame, names, kinds, binnings, y, w) -> None:
    """Fit the card's weights on ``binnings`` with its own solver and monotone directions."""
    monotone = [_direction(c) if c.kind == "numeric" else 0 for c in card.criteria_]
    axes = [c.axis for c in card.criteria_]
    codes, offsets = encode(frame, names, kinds, binnings)
    rows = card._binning_rows(len(frame), w)
    result, A = card._solve(codes, binnings, monotone, y, w, rows)
    cov = card._table_covariance(codes, A, result, w, rows)
    card._set_points(names, kinds, axes, monotone, binnings, result, codes, offsets, y, w, cov)
