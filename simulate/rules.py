"""Scoring rules: the points marketing gives per criterion and the MQL threshold.

A score has two parts. *Fit* points come from who the lead is (job level, industry, company
size, ...): a fixed number of points per category value, or per bin of a numeric attribute.
*Engagement* points come from what the lead did: for each behaviour count (page views, demo
requests, ...) a number of points per bin of the count, so "+5 a page view, at most 20" is the
bins ``edges=(1, 2, 3, 4), points=(0, 5, 10, 15, 20)``. With a half-life, every event's weight in
its count halves every ``decay_half_life_days``, so old activity stops counting.

    score(t) = clip(fit + sum_c points_c(count_c(t)), score_min, score_max)
    count_c(t) = sum over events e of criterion c with t_e <= t of 0.5 ** ((t - t_e) / half_life)

A lead becomes an MQL at the first moment ``score(t) >= mql_threshold``: at creation if its fit
alone is enough, else at the event that takes it over. With ``grades`` set, the rule has two
axes instead: the fit points give a grade (A best) and each grade has its own engagement
threshold, so an A-fit lead needs less engagement than a C-fit one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulate.atomic import write_text_atomic
from simulate.spec import (
    SpecError,
    check,
    from_dict,
    parse_table,
    read_text,
    require_table,
    to_dict,
)

RULES_FORMAT = "leadfunnel.scoring_rules/1"


@dataclass(frozen=True, slots=True, kw_only=True)
class Bins:
    """Points for a numeric value: ``points[i]`` for ``edges[i-1] <= value < edges[i]``.

    Values below ``edges[0]`` get ``points[0]``; values at or above ``edges[-1]`` get
    ``points[-1]``; missing values get ``missing``.
    """

    edges: tuple[float, ...]
    points: tuple[int, ...]
    missing: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "edges", tuple(float(e) for e in self.edges))
        check(
            all(float(p).is_integer() for p in self.points),
            f"Bins.points must be whole numbers, got {self.points}",
        )
        object.__setattr__(self, "points", tuple(int(p) for p in self.points))
        check(
            len(self.points) == len(self.edges) + 1,
            f"Bins.points must have one more value than Bins.edges ({len(self.edges) + 1}), got {len(self.points)}",
        )
        check(
            all(a < b for a, b in zip(self.edges, self.edges[1:])),
            f"Bins.edges must be strictly increasing, got {self.edges}",
        )

    @classmethod
    def per_event(cls, points: int, cap: int) -> Bins:
        """``points`` for every event, at most ``cap`` in all."""
        steps = max(1, cap // max(points, 1))
        edges = tuple(float(i) for i in range(1, steps + 1))
        return cls(edges=edges, points=tuple(min(cap, i * points) for i in range(steps + 1)))

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """Points for an array of values (float array in, int64 array out)."""
        values = np.asarray(values, dtype=float)
        pts = np.asarray(self.points, dtype=np.int64)
        out = pts[np.searchsorted(np.asarray(self.edges), values, side="right")]
        return np.where(np.isnan(values), self.missing, out)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grades:
    """Second axis: fit points give a grade, each grade has its own engagement threshold.

    ``fit_edges`` split the fit points into ``len(fit_edges) + 1`` grades, worst first;
    ``names`` label them (default D, C, B, A for three edges) and ``engagement_thresholds``
    give the engagement points each grade needs to become an MQL (use a huge number for a
    grade that never qualifies).
    """

    fit_edges: tuple[float, ...]
    engagement_thresholds: tuple[float, ...]
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n = len(self.fit_edges) + 1
        check(
            all(a < b for a, b in zip(self.fit_edges, self.fit_edges[1:])),
            f"Grades.fit_edges must be strictly increasing, got {self.fit_edges}",
        )
        check(
            len(self.engagement_thresholds) == n,
            f"Grades.engagement_thresholds must have {n} values (one per grade), got {len(self.engagement_thresholds)}",
        )
        check(
            not self.names or len(self.names) == n,
            f"Grades.names must have {n} values (one per grade), got {len(self.names)}",
        )

    @property
    def grade_names(self) -> tuple[str, ...]:
        """Names of the fit grades, best first (``A``, ``B``, ...)."""
        if self.names:
            return self.names
        return tuple("ABCDEFGHIJ"[: len(self.fit_edges) + 1][::-1])

    def grade(self, fit_points: np.ndarray) -> np.ndarray:
        """Grade index per lead (0 = worst)."""
        return np.searchsorted(np.asarray(self.fit_edges), fit_points, side="right")


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoringRules:
    """Points per criterion, limits and the MQL threshold (see the module docstring).

    Parameters
    ----------
    fit : points per value of a categorical column; values not listed get 0.
    fit_numeric : points per bin of a numeric column (for example company size).
    engagement : points per bin of a behaviour count column (for example ``page_views``).
    decay_half_life_days : behaviour weight halves after this many days; ``None`` for no decay.
    score_min, score_max : the score is clipped to this range.
    mql_threshold : the score at which a lead becomes an MQL.
    grades : optional second axis (fit grade x engagement); replaces ``mql_threshold``.

    Examples
    --------
    >>> rules = ScoringRules(fit={"job_level": {"vp": 10}},
    ...                      engagement={"demo_requests": Bins(edges=(1.0,), points=(0, 30))},
    ...                      mql_threshold=35)
    >>> leads = pd.DataFrame({"job_level": ["vp", "manager"], "demo_requests": [1, 1]})
    >>> rules.score(leads).tolist()
    [40.0, 30.0]
    """

    fit: dict[str, dict[str, int]] = field(default_factory=dict)
    fit_numeric: dict[str, Bins] = field(default_factory=dict)
    engagement: dict[str, Bins] = field(default_factory=dict)
    decay_half_life_days: float | None = None
    score_min: float = 0.0
    score_max: float = 100.0
    mql_threshold: float = 50.0
    grades: Grades | None = None

    def __post_init__(self) -> None:
        check(
            self.score_min < self.score_max,
            f"ScoringRules.score_min ({self.score_min}) must be below ScoringRules.score_max ({self.score_max})",
        )
        check(
            self.decay_half_life_days is None or self.decay_half_life_days > 0,
            f"ScoringRules.decay_half_life_days must be > 0 or None, got {self.decay_half_life_days}",
        )
        overlap = (set(self.fit) | set(self.fit_numeric)) & set(self.engagement)
        check(not overlap, f"ScoringRules: {sorted(overlap)} is both a fit and an engagement criterion")
        both = set(self.fit) & set(self.fit_numeric)
        check(not both, f"ScoringRules: {sorted(both)} is in both fit and fit_numeric")

    # --- what the rules read -------------------------------------------------------------
    @property
    def columns(self) -> tuple[str, ...]:
        """Every lead-table column the rules read."""
        return (*self.fit, *self.fit_numeric, *self.engagement)

    def _require(self, leads: pd.DataFrame, names) -> None:
        missing = [c for c in names if c not in leads.columns]
        if missing:
            raise KeyError(f"scoring rules need column {missing[0]!r}, which the lead table lacks")

    # --- scoring from a table -------------------------------------------------------------
    def fit_points(self, leads: pd.DataFrame) -> np.ndarray:
        """Fit points per lead (float array)."""
        self._require(leads, [*self.fit, *self.fit_numeric])
        total = np.zeros(len(leads))
        for column, points in self.fit.items():
            values = leads[column].astype("object").to_numpy()
            total += pd.Series(values).map(points).fillna(0).to_numpy(dtype=float)
        for column, bins in self.fit_numeric.items():
            total += bins(pd.to_numeric(leads[column], errors="coerce").to_numpy(dtype=float))
        return total

    def engagement_points(self, leads: pd.DataFrame) -> np.ndarray:
        """Engagement points from the count columns (end totals, no decay)."""
        self._require(leads, self.engagement)
        total = np.zeros(len(leads))
        for column, bins in self.engagement.items():
            total += bins(pd.to_numeric(leads[column], errors="coerce").to_numpy(dtype=float))
        return total

    def score(self, leads: pd.DataFrame) -> np.ndarray:
        """Score per lead from its attributes and count columns (no decay)."""
        return np.clip(self.fit_points(leads) + self.engagement_points(leads), self.score_min, self.score_max)

    def is_mql(self, leads: pd.DataFrame) -> np.ndarray:
        """Whether each lead's end-total score meets the rule (no decay, no timing)."""
        fit = self.fit_points(leads)
        engagement = self.engagement_points(leads)
        return self._meets(fit, engagement)

    def _meets(self, fit: np.ndarray, engagement: np.ndarray) -> np.ndarray:
        if self.grades is not None:
            need = np.asarray(self.grades.engagement_thresholds)[self.grades.grade(fit)]
            return engagement >= need
        return np.clip(fit + engagement, self.score_min, self.score_max) >= self.mql_threshold

    def replace_threshold(self, threshold: float) -> ScoringRules:
        """The same points with another single-axis MQL threshold."""
        from dataclasses import replace

        return replace(self, mql_threshold=float(threshold), grades=None)

    # --- text -----------------------------------------------------------------------------
    def table(self) -> pd.DataFrame:
        """A readable points table: axis, criterion, value or bin, points."""
        rows = []
        for column, points in self.fit.items():
            rows += [("fit", column, str(v), p) for v, p in points.items()]
        for axis, criteria in (("fit", self.fit_numeric), ("engagement", self.engagement)):
            for column, bins in criteria.items():
                edges = (-np.inf, *bins.edges, np.inf)
                for lo, hi, p in zip(edges, edges[1:], bins.points):
                    rows.append((axis, column, f"[{lo:g}, {hi:g})", p))
        return pd.DataFrame(rows, columns=["axis", "criterion", "value", "points"])

    def to_dict(self) -> dict:
        """The rules as plain data (what ``to_json`` writes)."""
        return {"format": RULES_FORMAT, **to_dict(self)}

    @classmethod
    def from_dict(cls, data: dict, *, source: str = "rules") -> ScoringRules:
        """Rules from plain data; a bad key or value raises ``SpecError`` naming it and ``source``."""
        data = dict(require_table(data, source))
        fmt = data.pop("format", RULES_FORMAT)
        if fmt != RULES_FORMAT:
            raise SpecError(
                f"{source}: format {fmt!r} is not {RULES_FORMAT!r} (rules from another "
                "program, or from a newer leadfunnel)"
            )
        try:
            return from_dict(cls, data)
        except SpecError as exc:
            raise SpecError(f"{source}: {exc}") from None

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The rules as JSON text; also written atomically to ``path`` when given."""
        text = json.dumps(self.to_dict(), indent=2)
        if path is not None:
            write_text_atomic(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike) -> ScoringRules:
        """Read rules from a JSON file (or JSON text starting with ``{``)."""
        if isinstance(path_or_text, str) and path_or_text.lstrip().startswith("{"):
            text, source = path_or_text, "rules JSON"
        else:
            source = str(path_or_text)
            text = read_text(path_or_text, "rules")
        return cls.from_dict(parse_table(json.loads, text, source, "JSON"), source=source)


def default_rules() -> ScoringRules:
    """Hand-set rules as a marketing team would write them: points for title, firmographics
    and engagement, 30-day decay of behaviour points, MQL at 60 of 100."""
    return ScoringRules(
        fit={
            "job_level": {"c_level": 15, "vp": 15, "director": 10, "manager": 5, "student": -10},
            "industry": {"software": 10, "financial_services": 10, "healthcare": 5, "manufacturing": 5},
            "region": {"north_america": 5, "emea": 5},
            "email_domain": {"business": 5, "personal": -5, "disposable": -20},
            "lead_type": {"existing_customer": 10},
        },
        fit_numeric={
            "company_size": Bins(edges=(50, 200, 1000, 5000), points=(0, 5, 10, 15, 15)),
        },
        engagement={
            "page_views": Bins.per_event(2, 10),
            "pricing_page_views": Bins.per_event(10, 20),
            "email_clicks": Bins.per_event(3, 9),
            "form_submissions": Bins.per_event(5, 10),
            "early_content_downloads": Bins.per_event(3, 6),
            "late_content_downloads": Bins.per_event(10, 20),
            "webinars": Bins.per_event(10, 20),
            "demo_requests": Bins(edges=(1,), points=(0, 40)),
        },
        decay_half_life_days=30.0,
        score_min=0.0,
        score_max=100.0,
        mql_threshold=60.0,
    )
