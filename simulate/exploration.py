"""An exploration experiment: below-threshold leads handed to sales at random, by score band.

A history holds outcomes only for the leads sales worked. To learn what happens below the
MQL threshold, a random share of the leads that stay below it is worked anyway for a few
weeks; the share may differ by band of the score (``ExplorationRule``). ``run_with_exploration``
simulates a history under such a rule: the same world as ``simulate.run(scenario, seed)``
(same leads, behaviour and truth), with the sampled leads handed to sales
``decide_after_days`` after their creation if their score then is still below the threshold.

In the lead table an explored lead has no ``mql_at`` (the rules did not make it an MQL); it
has ``explored = True``, ``explored_at`` (the moment it was handed to sales: its clock start
for the labels, see ``calibrate.make_labels``) and ``exploration_share`` (the chance its
band was sampled with, so each explored lead weighs ``1 / share``). The run's ``summary``
counts explored leads among the MQLs handed to sales (they load the team like MQLs).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simulate.behaviour import simulate_events
from simulate.leads import simulate_leads
from simulate.scenario import Scenario
from simulate.scoring import MINUTES_PER_DAY, score_stream
from simulate.simulation import RunResult, _lead_table, assemble, to_timestamps
from simulate.truth import draw_truth

__all__ = ["EXPLORATION_COLUMNS", "ExplorationRule", "run_with_exploration", "scores_at_age"]

EXPLORATION_COLUMNS = ("explored", "explored_at", "exploration_share")
"""The lead-table columns an exploration run adds (never features of a scorecard)."""


@dataclasses.dataclass(frozen=True)
class ExplorationRule:
    """Which below-threshold leads to hand to sales at random.

    Parameters
    ----------
    edges : increasing score edges of the bands, ``len(shares) + 1`` of them; band ``b`` is
        ``edges[b] <= score < edges[b + 1]`` (use ``-inf`` for the lowest edge). A lead whose
        score at the decision is outside every band, or at or above the MQL threshold, is
        never sampled.
    shares : the chance a lead of each band is handed to sales, in [0, 1].
    decide_after_days : the decision moment, in days after the lead's creation: its score
        then decides its band (a lead that already became an MQL is not eligible).
    start_day, weeks : the experiment runs for leads created from ``start_day`` (days since
        the scenario's start) for ``weeks`` weeks (``None``: to the end).
    """

    edges: Sequence[float]
    shares: Sequence[float]
    decide_after_days: float = 7.0
    start_day: float = 0.0
    weeks: float | None = None

    def __post_init__(self) -> None:
        edges = np.asarray(self.edges, dtype=float)
        shares = np.asarray(self.shares, dtype=float)
        if edges.ndim != 1 or shares.ndim != 1 or edges.size != shares.size + 1 or shares.size == 0:
            raise ValueError(
                f"ExplorationRule: edges must have one more entry than shares, got {edges.size} edges "
                f"and {shares.size} shares"
            )
        if np.any(np.isnan(edges)) or np.any(np.diff(edges) <= 0):
            raise ValueError(f"ExplorationRule: edges must increase, got {list(edges)}")
        bad = np.flatnonzero(~((shares >= 0) & (shares <= 1)))
        if bad.size:
            raise ValueError(f"ExplorationRule: shares[{bad[0]}] = {shares[bad[0]]!r} is not in [0, 1]")
        if not self.decide_after_days >= 0:
            raise ValueError(f"ExplorationRule: decide_after_days must be >= 0, got {self.decide_after_days!r}")
        if self.weeks is not None and not self.weeks > 0:
            raise ValueError(f"ExplorationRule: weeks must be > 0 or None, got {self.weeks!r}")
        object.__setattr__(self, "edges", tuple(float(e) for e in edges))
        object.__setattr__(self, "shares", tuple(float(s) for s in shares))

    def share_of(self, score: np.ndarray) -> np.ndarray:
        """Each score's sampling chance (0 outside every band)."""
        score = np.asarray(score, dtype=float)
        band = np.searchsorted(np.asarray(self.edges), score, side="right") - 1
        inside = (band >= 0) & (band < len(self.shares)) & np.isfinite(score)
        shares = np.asarray(self.shares)
        return np.where(inside, shares[np.clip(band, 0, len(self.shares) - 1)], 0.0)

    def in_weeks(self, created_day: np.ndarray) -> np.ndarray:
        """Whether leads created on these days (since the start) fall in the experiment."""
        created_day = np.asarray(created_day, dtype=float)
        end = np.inf if self.weeks is None else self.start_day + 7.0 * self.weeks
        return (created_day >= self.start_day) & (created_day < end)

    def to_dict(self) -> dict:
        """The rule as plain JSON types (what a CRM workflow needs: bands and shares)."""
        edges = [None if not np.isfinite(e) else e for e in self.edges]
        return {
            "bands": [
                {"score_from": lo, "score_below": hi, "share": s}
                for lo, hi, s in zip(edges[:-1], edges[1:], self.shares, strict=True)
            ],
            "decide_after_days": self.decide_after_days,
            "start_day": self.start_day,
            "weeks": self.weeks,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ExplorationRule:
        """The inverse of ``to_dict``; a missing band edge is infinite."""
        try:
            bands = data["bands"]
            lows = [-np.inf if b["score_from"] is None else float(b["score_from"]) for b in bands]
            last = bands[-1]["score_below"]
            edges = [*lows, np.inf if last is None else float(last)]
            shares = [float(b["share"]) for b in bands]
        except (KeyError, TypeError, IndexError) as error:
            raise ValueError(f"ExplorationRule.from_dict: malformed rule, missing or bad key {error}") from None
        return cls(
            edges=edges,
            shares=shares,
            decide_after_days=float(data.get("decide_after_days", 7.0)),
            start_day=float(data.get("start_day", 0.0)),
            weeks=data.get("weeks"),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def scores_at_age(
    rules, fit_points: np.ndarray, created_min: np.ndarray, offsets, event_min, event_kind, age_min: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's score ``age_min`` minutes after its creation, and its MQL moment by then.

    Every lead's clock is shifted so that its moment ``created + age_min`` falls on one
    common instant, and the stream is scored up to that instant (``score_stream``), so the
    score is exact with decay too. Returns ``(score, mql_min)`` in the lead's own time.
    """
    created = np.asarray(created_min, dtype=float)
    offsets = np.asarray(offsets, dtype=np.int64)
    moment = created + float(age_min)
    common = float(moment.max()) if moment.size else 0.0
    shift = common - moment
    per_event = np.repeat(shift, np.diff(offsets))
    mql, score, _ = score_stream(
        rules, fit_points, created + shift, offsets, np.asarray(event_min, dtype=float) + per_event, event_kind, common
    )
    return score, mql - shift


def run_with_exploration(scenario: Scenario | None, rule: ExplorationRule, seed: int = 0) -> RunResult:
    """``simulate.run(scenario, seed)`` with an exploration experiment (module docstring).

    The leads, their behaviour and their truth are those of ``run`` with the same seed; the
    draw of which leads are explored comes from a fifth child of ``SeedSequence(seed)``.
    """
    scenario = Scenario() if scenario is None else scenario
    pop_seed, event_seed, truth_seed, sales_seed, explore_seed = np.random.SeedSequence(seed).spawn(5)
    leads = simulate_leads(scenario, rng=np.random.default_rng(pop_seed))
    events = simulate_events(scenario, leads, rng=np.random.default_rng(event_seed))
    truth = draw_truth(scenario, leads, events.counts, rng=np.random.default_rng(truth_seed))
    as_of = scenario.days * MINUTES_PER_DAY
    rules = scenario.rules
    fit = rules.fit_points(_lead_table(scenario, leads, events, as_of))
    mql_min, score, mql_score = score_stream(
        rules, fit, leads.created_min, events.offsets, events.t_min, events.kind, as_of
    )
    age = float(rule.decide_after_days) * MINUTES_PER_DAY
    score_then, mql_by_then = scores_at_age(
        rules, fit, leads.created_min, events.offsets, events.t_min, events.kind, age
    )
    decided = leads.created_min + age
    eligible = ~(mql_by_then <= decided) & (decided < as_of) & rule.in_weeks(leads.created_min / MINUTES_PER_DAY)
    share = np.where(eligible, rule.share_of(score_then), 0.0)
    explored = np.random.default_rng(explore_seed).random(share.size) < share
    handed = np.where(explored, decided, mql_min)
    handed_score = np.where(explored, score_then, mql_score)
    result = assemble(
        scenario, leads, events, truth, sales_seed=sales_seed, seed=seed, mql=(handed, score, handed_score)
    )
    table = result.leads.copy()
    table["explored"] = explored
    table["explored_at"] = to_timestamps(np.where(explored, decided, np.nan), scenario.start)
    table["exploration_share"] = np.where(eligible, share, np.nan)
    table["mql_at"] = table["mql_at"].where(~explored, pd.NaT)
    return dataclasses.replace(result, leads=table)
