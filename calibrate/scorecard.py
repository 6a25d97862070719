"""``Scorecard``: integer scoring points fitted to past outcomes, as a scikit-learn classifier.

The model is an additive logistic regression on binned features. Each numeric feature is cut
into bins of about equal weight (a heavy value such as "0 page views" gets a bin of its own),
each categorical feature keeps one group per value (values under ``min_bin_size`` pooled as
"(other)", or, if even together they are that rare, given the reference's 0 points like a
value never seen), and the log-odds of a win are

    log(p / (1 - p)) = intercept + sum over features j of effect_j(bin of x_j)

fitted with an L2 penalty (``C`` as in ``LogisticRegression``; for numeric features it acts
on the steps between neighbouring bins, which smooths them) and, where the sign is known, a
monotone constraint: given by the user, or, by default, taken from the data where they show
the direction clearly (a rank trend of the unconstrained fit with ``|z| >= 3``, see
``calibrate._monotone``); elsewhere a feature is free, so a count whose effect is negative
(activity that marks a poor lead) gets points that fall with the count.

Points: ``points = round(effect * points_to_double_odds / ln 2)``, so every
``points_to_double_odds`` points double the odds of a win. The reference that gets 0 points
is the lowest bin of a numeric feature (a missing value too, unless missing values are
common enough to get points of their own) and, for a categorical one, the missing value if it
has its own group, else a value never seen in training (the penalty's centre): a CRM gives
nothing for a value it has no rule for, and neither does ``rules_``. After rounding, the
intercept is refitted so that the predicted wins add up to the observed ones:

    p = 1 / (1 + exp(-(intercept_ + score * ln 2 / points_to_double_odds))),
    score = sum of the lead's points

Fit and engagement are separate axes: engagement features are behaviour counts (by default
the lead table's count columns), everything else is fit. ``rules_`` is the same points as a
``simulate.ScoringRules``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted, validate_data

from calibrate._binning import (
    MISSING,
    OTHER,
    CategoryBinning,
    NumericBinning,
    category_binning,
    encode,
    numeric_binning,
    parametrise,
)
from calibrate._design import check_design_size
from calibrate._logistic import code_totals, covariance, fit_logistic, linear_predictor, refit_intercept
from calibrate._monotone import (
    decide,
    evidence_frame,
    log_odds_se,
    requested_constraints,
    table_covariance,
    trend_evidence,
)
from calibrate._validation import as_frame, binary_target, column_kind, feature_names, numeric_values, sample_weights
from calibrate.scorecard_rules import fit_grades, rules_from_criteria
from simulate.rules import ScoringRules
from simulate.table import BEHAVIOUR_COLUMNS

LN2 = math.log(2.0)
HESSIAN_ROWS = 50_000


@dataclass(frozen=True, slots=True, eq=False)
class Criterion:
    """One fitted feature: its binning, axis, constraint and effects per code.

    ``log_odds`` and ``points`` have one entry per code of the binning (bins or groups, then
    the missing or unseen slot); both are relative to the feature's reference (0 points).
    """

    name: str
    kind: str  # "numeric" or "categorical"
    axis: str  # "fit" or "engagement"
    monotone: int  # +1 non-decreasing, -1 non-increasing, 0 free
    binning: NumericBinning | CategoryBinning
    log_odds: np.ndarray
    points: np.ndarray
    weight: np.ndarray  # training weight per code (every row, not only the binning sample)
    event_weight: np.ndarray  # training weight of wins per code
    log_odds_se: np.ndarray  # approximate standard error of log_odds (0 for the reference)


class Scorecard(ClassifierMixin, BaseEstimator):
    """Integer scoring points per criterion, fitted to past wins (see the module docstring).

    Parameters
    ----------
    max_bins : about how many bins a numeric feature gets.
    min_bin_size : smallest bin (or category kept on its own), as a share of the training
        weight; lighter values are merged into a neighbour or pooled as "(other)".
    C : inverse strength of the L2 penalty, as in ``LogisticRegression`` (larger is weaker).
    monotonic_cst : ``"auto"`` (default): each numeric feature is constrained to the sign of
        its rank trend in an unconstrained fit where that trend's ``|z| >= 3``, and free
        otherwise (the rule and why 3: ``calibrate._monotone``); a mapping of feature name
        to ``1`` (non-decreasing), ``-1`` (non-increasing) or ``0`` (free), features not
        named decided as by ``"auto"``; ``"engagement"``: the old rule, every engagement
        feature non-decreasing whatever the data say and the rest free; ``None``: no
        constraint at all.
    engagement : the engagement (behaviour) features: ``"auto"`` for the lead table's
        behaviour count columns present in ``X``, or a list of names; the rest are fit.
    points_to_double_odds : points that double the odds of a win (the scale of the points).
    integer_points : predict with the rounded points (as the CRM will score); ``False``
        predicts with the unrounded effects.
    mql_probability : the chance to win at which ``rules_`` puts the MQL threshold; ``None``
        for the training base rate.
    subsample : rows used to choose the bins and to estimate the Hessian of the solver (all
        rows are used for the gradient, so the weights are fitted to every row).
    max_iter : Newton iterations at most.
    tol : stop when the log-likelihood can gain less than this many nats.
    random_state : seed of the subsample (fixed by default, so the same history always gives
        the same points).
    max_rules : ``None`` (default) for the full card; a number for a sparse card a CRM can
        take: monotone runs, round bin edges, no zero-point rows, at most this many rules,
        refitted (``calibrate.sparse_card``).

    Attributes
    ----------
    classes_ : the two outcomes; ``classes_[1]`` is the win.
    criteria_ : one ``Criterion`` per feature, in the order of ``X``'s columns.
    intercept_ : log-odds of a lead with 0 points.
    rules_ : the points as ``simulate.ScoringRules``, MQL threshold at ``mql_probability``.
    monotone_ : the constraint each feature was fitted with, by name: ``1``, ``-1`` or ``0``.
    monotone_evidence_ : one row per numeric feature: ``axis``, ``trend`` (log-odds from the
        lowest to the highest lead, by the rank trend of the unconstrained fit), ``se``,
        ``z``, ``monotone`` and ``source`` (``"auto"``: decided from ``z``; ``"user"``,
        ``"engagement"``, ``"none"``: given, and then ``trend``, ``se``, ``z`` are NaN).
    n_iter_ : solver iterations (of both fits when ``"auto"`` fitted twice).
    sparse_report_ : with ``max_rules``, the training AUC and rules of the full and the
        sparse card (``SparseReport``; ``print(card.sparse_report_)`` says it in a line).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"job_level": rng.choice(["vp", "manager", "student"], 4000),
    ...                   "demo_requests": rng.poisson(0.3, 4000)})
    >>> logit = -1.5 + X["job_level"].map({"vp": 1.0, "manager": 0.3, "student": -1.0})
    >>> logit = logit + 1.2 * np.minimum(X["demo_requests"], 1)
    >>> y = rng.random(4000) < 1 / (1 + np.exp(-logit))
    >>> card = Scorecard(points_to_double_odds=10).fit(X, y)
    >>> card.table()[["axis", "criterion", "value", "points"]]
             axis      criterion    value  points
    0         fit      job_level  manager       2
    1         fit      job_level  student     -16
    2         fit      job_level       vp      14
    3  engagement  demo_requests        0       0
    4  engagement  demo_requests        1      17
    5  engagement  demo_requests       2+      18
    >>> card.rules_.engagement["demo_requests"]
    Bins(edges=(1.0, 2.0), points=(0, 17, 18), missing=0)
    >>> card.predict_points(X.head(3)).tolist(), card.rules_.score(X.head(3)).tolist()
    ([1, 19, 2], [1.0, 19.0, 2.0])
    """

    def __init__(
        self,
        *,
        max_bins: int = 20,
        min_bin_size: float = 0.005,
        C: float = 1.0,
        monotonic_cst: str | Mapping[str, int] | None = "auto",
        engagement: str | Sequence[str] = "auto",
        points_to_double_odds: float = 10.0,
        integer_points: bool = True,
        mql_probability: float | None = None,
        subsample: int | None = 200_000,
        max_iter: int = 100,
        tol: float = 1e-4,
        random_state=0,
        max_rules: int | None = None,
    ):
        self.max_bins = max_bins
        self.min_bin_size = min_bin_size
        self.C = C
        self.monotonic_cst = monotonic_cst
        self.engagement = engagement
        self.points_to_double_odds = points_to_double_odds
        self.integer_points = integer_points
        self.mql_probability = mql_probability
        self.subsample = subsample
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.max_rules = max_rules

    # --- scikit-learn plumbing ----------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags

    def _check_params(self) -> None:
        if not (isinstance(self.max_bins, int | np.integer) and self.max_bins >= 2):
            raise ValueError(f"Scorecard.max_bins must be an integer >= 2, got {self.max_bins!r}")
        if not 0 <= self.min_bin_size < 0.5:
            raise ValueError(f"Scorecard.min_bin_size must be in [0, 0.5), got {self.min_bin_size!r}")
        if not self.C > 0:
            raise ValueError(f"Scorecard.C must be > 0, got {self.C!r}")
        if not self.points_to_double_odds > 0:
            raise ValueError(f"Scorecard.points_to_double_odds must be > 0, got {self.points_to_double_odds!r}")
        if self.mql_probability is not None and not 0 < self.mql_probability < 1:
            raise ValueError(f"Scorecard.mql_probability must be in (0, 1), got {self.mql_probability!r}")
        if self.max_rules is not None and not (isinstance(self.max_rules, int | np.integer) and self.max_rules >= 1):
            raise ValueError(f"Scorecard.max_rules must be an integer >= 1 or None, got {self.max_rules!r}")
        if self.subsample is not None and self.subsample < 1:
            raise ValueError(f"Scorecard.subsample must be >= 1 or None, got {self.subsample!r}")

    # --- fit ----------------------------------------------------------------------------
    def fit(self, X, y, sample_weight: ArrayLike | None = None) -> Scorecard:
        """Bin the features, fit the weights and round them to points.

        Parameters
        ----------
        X : DataFrame or 2-D array; numeric columns are binned, text or categorical
            columns are categories, ``NaN`` or ``None`` is a value of its own ("missing").
        y : the outcome per lead (two classes; the larger, or ``True``, is the win).
        sample_weight : optional weight per lead, for example ``1 / share`` for the leads of
            an exploration sample (see ``calibrate.make_labels``).

        Returns
        -------
        Scorecard
            ``self``, fitted.
        """
        self._check_params()
        frame = as_frame(X, self)
        validate_data(self, X, skip_check_array=True, reset=True)
        names = feature_names(self, frame)
        self.classes_, yb = binary_target(y, len(frame))
        w = sample_weights(sample_weight, len(frame))
        for k in (0, 1):
            if not w[yb == k].sum() > 0:
                raise ValueError(
                    "Scorecard needs leads of both classes: sample_weight is zero for every "
                    "lead of "
                    f"class {self.classes_[k]!r}"
                )
        kinds = [column_kind(frame.iloc[:, j], names[j]) for j in range(frame.shape[1])]
        axes = self._axes(names, kinds)
        engagement = [n for n, a in zip(names, axes, strict=True) if a == "engagement"]
        requested, sources = requested_constraints(self.monotonic_cst, names, kinds, engagement)
        rows = self._binning_rows(len(frame), w)
        binnings = self._bin(frame, names, kinds, w, rows)
        codes, offsets = encode(frame, names, kinds, binnings)
        check_design_size(offsets, names, min(rows.size, HESSIAN_ROWS))
        monotone, result, cov, evidence = self._decide_and_solve(codes, offsets, binnings, requested, yb, w, rows)
        self.monotone_evidence_ = evidence_frame(names, kinds, axes, sources, monotone, *evidence)
        self._set_points(names, kinds, axes, monotone, binnings, result, codes, offsets, yb, w, cov)
        if self.max_rules is not None:
            from calibrate.sparse_card import sparsify

            sparsify(self, frame, yb, w)
        return self

    def _set_points(self, names, kinds, axes, monotone, binnings, result, codes, offsets, yb, w, cov) -> None:
        """The fitted attributes from a solved fit: criteria, intercepts, rules."""
        self.monotone_ = dict(zip(names, monotone, strict=True))
        self.criteria_, ref_total = self._criteria(
            names, kinds, axes, monotone, binnings, result, codes, offsets, yb, w, cov
        )
        self._offsets = offsets
        self.intercept_unrounded_ = result.intercept + ref_total
        self._calibrate_points(codes, axes, yb, w)
        self.rules_ = self.to_rules()

    def _bin(self, frame, names, kinds, w, rows) -> list[NumericBinning | CategoryBinning]:
        """The binning of each feature, chosen on the binning rows."""
        min_bin_weight = self.min_bin_size * float(w[rows].sum())
        binnings = []
        for j, name in enumerate(names):
            col = frame.iloc[rows, j]
            if kinds[j] == "numeric":
                x = numeric_values(col, name)
                binnings.append(numeric_binning(x, w[rows], max_bins=int(self.max_bins), min_bin_weight=min_bin_weight))
            else:
                binnings.append(category_binning(col, w[rows], min_bin_weight=min_bin_weight))
        return binnings

    def _decide_and_solve(self, codes, offsets, binnings, requested, yb, w, rows):
        """Fit with the features to decide free; decide them from the fit's rank trends (see
        ``calibrate._monotone``) and, if any is constrained, fit again from there.

        Returns the constraints, the fit, the covariance of its table entries and the
        evidence ``(features decided, trend, se, z)``.
        """
        first = [0 if m is None else int(m) for m in requested]
        result, A = self._solve(codes, binnings, first, yb, w, rows)
        n_iter = result.n_iter
        cov = self._table_covariance(codes, A, result, w, rows)
        auto = [j for j, m in enumerate(requested) if m is None]
        code_w = code_totals(codes, w, w, int(offsets[-1]))[0]
        trend, se, z = trend_evidence(binnings, offsets, code_w, result.table, cov, auto)
        monotone = list(first)
        for j, m in zip(auto, decide(z), strict=True):
            monotone[j] = int(m)
        if monotone != first:
            result, A = self._solve(codes, binnings, monotone, yb, w, rows, start=np.r_[result.intercept, result.theta])
            n_iter += result.n_iter
            cov = self._table_covariance(codes, A, result, w, rows)
        self.n_iter_ = max(n_iter, 1)
        return monotone, result, cov, (auto, trend, se, z)

    def _table_covariance(self, codes, A, result, w, rows) -> np.ndarray:
        cov = covariance(codes, A, result, w, C=float(self.C), hessian_rows=self._hessian_rows(rows))
        return table_covariance(A, cov)

    def _solve(self, codes, binnings, monotone, yb, w, rows, start=None):
        """The penalised, bounded logistic fit of the effects and its parametrisation ``A``;
        warns if it did not converge."""
        A, lower, upper = parametrise(binnings, monotone)
        result = fit_logistic(
            codes,
            A,
            lower,
            upper,
            yb,
            w,
            C=float(self.C),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            hessian_rows=self._hessian_rows(rows),
            start=start,
        )
        if not result.converged:
            warnings.warn(
                f"Scorecard: the solver stopped after {result.n_iter} iterations "
                "without converging "
                f"({result.message}); raise max_iter or lower C",
                ConvergenceWarning,
                stacklevel=4,
            )
        return result, A

    def _criteria(self, names, kinds, axes, monotone, binnings, result, codes, offsets, yb, w, cov):
        """One ``Criterion`` per feature, its effects relative to its reference; and the
        references' total (it moves into the intercept)."""
        factor = self.points_to_double_odds / LN2
        criteria, ref_total = [], 0.0
        code_w, event_w = code_totals(codes, w, w * yb, int(offsets[-1]))
        se = log_odds_se(binnings, offsets, cov)
        for j, name in enumerate(names):
            effects = result.table[offsets[j] : offsets[j + 1]]
            b = binnings[j]
            ref = effects[b.missing_group] if kinds[j] == "categorical" and b.has_missing else 0.0
            rel = effects - ref
            ref_total += ref
            criteria.append(
                Criterion(
                    name=name,
                    kind=kinds[j],
                    axis=axes[j],
                    monotone=monotone[j],
                    binning=b,
                    log_odds=rel,
                    points=np.round(rel * factor).astype(np.int64),
                    weight=code_w[offsets[j] : offsets[j + 1]],
                    event_weight=event_w[offsets[j] : offsets[j + 1]],
                    log_odds_se=se[j],
                )
            )
        return tuple(criteria), ref_total

    def _calibrate_points(self, codes, axes, yb, w) -> None:
        """The intercept of the rounded points, the base rate and the fit scores' weights."""
        factor = self.points_to_double_odds / LN2
        points_table = np.concatenate([c.points for c in self.criteria_]).astype(float)
        score = linear_predictor(codes, points_table, 0.0)
        self.intercept_ = refit_intercept(score / factor, yb, w, start=self.intercept_unrounded_)
        self.base_rate_ = float(np.dot(w, yb) / w.sum())
        fit_cols = [j for j, a in enumerate(axes) if a == "fit"]
        fit_score = np.rint(linear_predictor(np.ascontiguousarray(codes[:, fit_cols]), points_table, 0.0))
        low = fit_score.min() if fit_score.size else 0.0
        counts = np.bincount((fit_score - low).astype(np.int64), weights=w)
        present = np.flatnonzero(counts > 0)
        self._fit_score_weights = (present + low, counts[present])

    def _axes(self, names, kinds) -> list[str]:
        """``"engagement"`` or ``"fit"`` per feature; raises on a bad ``engagement``."""
        if isinstance(self.engagement, str):
            if self.engagement != "auto":
                raise ValueError(
                    f"Scorecard.engagement must be 'auto' or a list of feature names, got {self.engagement!r}"
                )
            engagement = [n for n in names if n in BEHAVIOUR_COLUMNS]
        else:
            engagement = list(self.engagement)
            unknown = [n for n in engagement if n not in names]
            if unknown:
                raise ValueError(f"Scorecard.engagement names {unknown[0]!r}, which is not a column of X")
        for n in engagement:
            if kinds[names.index(n)] != "numeric":
                raise ValueError(
                    f"Scorecard: engagement feature {n!r} must be numeric (a count of events), "
                    "it holds text or categories"
                )
        return ["engagement" if n in engagement else "fit" for n in names]

    def _binning_rows(self, n: int, w: np.ndarray) -> np.ndarray:
        if self.subsample is None or n <= self.subsample:
            return np.arange(n)
        rng = _generator(self.random_state)
        return np.sort(rng.choice(n, size=int(self.subsample), replace=False))

    def _hessian_rows(self, rows: np.ndarray) -> np.ndarray | None:
        """Rows for the solver's Hessian: a random part of the binning sample, at most
        ``HESSIAN_ROWS`` (the gradient always uses every row)."""
        if rows.size <= HESSIAN_ROWS:
            return None if rows.size == rows[-1] + 1 else rows
        rng = _generator(self.random_state)
        return np.sort(rng.choice(rows, size=HESSIAN_ROWS, replace=False))

    # --- predict ------------------------------------------------------------------------
    def _codes(self, X) -> np.ndarray:
        check_is_fitted(self)
        frame = as_frame(X, self)
        validate_data(self, X, skip_check_array=True, reset=False)
        names = [c.name for c in self.criteria_]
        kinds = [c.kind for c in self.criteria_]
        for j, c in enumerate(self.criteria_):
            if c.kind == "numeric" and column_kind(frame.iloc[:, j], c.name) != "numeric":
                numeric_values(frame.iloc[:, j], c.name)  # raises naming the row
        codes, _ = encode(frame, names, kinds, [c.binning for c in self.criteria_])
        return codes

    def _table(self, rounded: bool) -> tuple[np.ndarray, float]:
        if rounded:
            factor = self.points_to_double_odds / LN2
            return np.concatenate([c.points for c in self.criteria_]) / factor, self.intercept_
        return np.concatenate([c.log_odds for c in self.criteria_]), self.intercept_unrounded_

    def log_odds(self, X, *, rounded: bool | None = None) -> np.ndarray:
        """Log-odds of a win per lead; ``rounded`` (default ``integer_points``) uses the points."""
        check_is_fitted(self)
        rounded = self.integer_points if rounded is None else rounded
        table, intercept = self._table(rounded)
        return linear_predictor(self._codes(X), table, intercept)

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of a win per lead (positive: a win is likelier than not)."""
        return self.log_odds(X)

    def predict_proba(self, X) -> np.ndarray:
        """Chance of each class per lead, columns in the order of ``classes_``."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """The likelier outcome per lead."""
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def predict_points(self, X) -> np.ndarray:
        """Total integer score per lead (fit plus engagement points)."""
        check_is_fitted(self)
        table = np.concatenate([c.points for c in self.criteria_]).astype(float)
        return linear_predictor(self._codes(X), table, 0.0).round().astype(np.int64)

    def points(self, X) -> pd.DataFrame:
        """Points per criterion per lead, with the ``fit``, ``engagement`` and ``score`` totals."""
        codes = self._codes(X)
        out = {c.name: c.points[codes[:, j] - self._offsets[j]] for j, c in enumerate(self.criteria_)}
        frame = pd.DataFrame(out, index=X.index if isinstance(X, pd.DataFrame) else None)
        for axis in ("fit", "engagement"):
            frame[axis] = frame[[c.name for c in self.criteria_ if c.axis == axis]].sum(axis=1)
        frame["score"] = frame["fit"] + frame["engagement"]
        return frame

    # --- points as rules and as a table -------------------------------------------------
    def probability_for_score(self, score: ArrayLike) -> np.ndarray:
        """Chance to win at a total score."""
        check_is_fitted(self)
        s = np.asarray(score, dtype=float)
        return 1.0 / (1.0 + np.exp(-(self.intercept_ + s * LN2 / self.points_to_double_odds)))

    def score_for_probability(self, probability: float) -> int:
        """The lowest whole score whose chance to win is at least ``probability``."""
        check_is_fitted(self)
        if not 0 < probability < 1:
            raise ValueError(f"probability must be in (0, 1), got {probability!r}")
        logit = math.log(probability / (1 - probability))
        s = math.ceil((logit - self.intercept_) * self.points_to_double_odds / LN2 - 1e-9)
        return int(s)

    def to_rules(
        self,
        *,
        threshold: float | None = None,
        mql_probability: float | None = None,
        grades: int | None = None,
    ) -> ScoringRules:
        """The points as ``simulate.ScoringRules``.

        Parameters
        ----------
        threshold : MQL threshold on the total score; default: the score at
            ``mql_probability`` (default the estimator's, else the training base rate).
        grades : with a number of grades, a two-axis rule instead: the fit points are cut at
            their training quantiles into that many grades (D worst ... A best for 4), and
            each grade needs ``threshold`` minus the lowest fit score in the grade of
            engagement, so no lead passes that the single threshold would not pass.
        """
        check_is_fitted(self)
        if threshold is None:
            p = mql_probability or self.mql_probability or self.base_rate_
            threshold = self.score_for_probability(p)
        grading = None
        if grades is not None:
            values, weights = self._fit_score_weights
            grading = fit_grades(values, weights, int(grades), float(threshold))
        return rules_from_criteria(self.criteria_, float(threshold), grading)

    def table(self) -> pd.DataFrame:
        """The points table: one row per criterion and value or bin.

        Columns: ``axis``, ``criterion``, ``value``, ``points``, ``log_odds`` (unrounded
        effect), ``log_odds_se`` (its approximate standard error, constraints ignored),
        ``share`` (of the training weight), ``win_rate`` (observed, weighted) and
        ``monotone`` (the criterion's constraint: ``1``, ``-1`` or ``0``; the evidence is in
        ``monotone_evidence_``). Empty bins (missing, unseen) are left out.
        """
        check_is_fitted(self)
        rows = []
        for axis in ("fit", "engagement"):
            for c in (c for c in self.criteria_ if c.axis == axis):
                b = c.binning
                labels = b.labels() if c.kind == "numeric" else [*b.group_names, "(rare or unseen)"]
                total = c.weight.sum()
                for k, label in enumerate(labels):
                    if c.weight[k] <= 0:
                        continue
                    rows.append(
                        (
                            axis,
                            c.name,
                            label,
                            int(c.points[k]),
                            float(c.log_odds[k]),
                            float(c.log_odds_se[k]),
                            c.weight[k] / total,
                            c.event_weight[k] / c.weight[k],
                            int(c.monotone),
                        )
                    )
        columns = ["axis", "criterion", "value", "points", "log_odds", "log_odds_se", "share", "win_rate", "monotone"]
        return pd.DataFrame(rows, columns=columns)


# --- helpers ----------------------------------------------------------------------------
def _generator(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)


__all__ = ["Criterion", "Scorecard", "MISSING", "OTHER", "CategoryBinning"]
