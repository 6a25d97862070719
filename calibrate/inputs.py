"""From a history to what the trade-offs are computed from, one entry per lead.

``prepare`` fits (or uses) a ``Scorecard`` and gives every lead its points, its fitted chance
to win once worked, the moment it would be handed to sales, its expected amount, and the
waits the history's worked leads had; with the ``Window`` the history covers.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from calibrate.capacity import HORIZON_DAYS, Window
from calibrate.history import History, load_history
from calibrate.labels import make_labels
from calibrate.scorecard import Scorecard

__all__ = ["LeadInputs", "as_history", "prepare"]


@dataclasses.dataclass(frozen=True, slots=True)
class LeadInputs:
    """What the trade-offs are computed from, one entry per lead of the history.

    ``score`` the points under the scorecard (or the fit-grade x engagement sum, see
    ``prepare``); ``p_win`` the fitted chance to win once worked; ``handoff_min`` when the
    lead is handed to sales (its MQL moment, else its creation plus the median delay),
    minutes since ``window.start``; ``amount`` the expected deal amount;
    ``historical_wait_min`` the waits to first touch the worked leads had. Leads that came
    back from nurture are handed to sales twice: ``returns_*`` give their second trip.
    """

    score: np.ndarray
    p_win: np.ndarray
    handoff_min: np.ndarray
    amount: np.ndarray
    historical_wait_min: np.ndarray
    window: Window
    scorecard: Scorecard
    grade_offset: np.ndarray | None = None
    returns_score: np.ndarray | None = None
    returns_handoff_min: np.ndarray | None = None
    returns_index: np.ndarray | None = None

    def load_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Scores and handoff times of every trip to sales (first trips, then returns)."""
        if self.returns_score is None:
            return self.score, self.handoff_min
        return (
            np.concatenate([self.score, self.returns_score]),
            np.concatenate([self.handoff_min, self.returns_handoff_min]),
        )


def as_history(history) -> History:
    """A ``History`` from a ``History``, a lead-table DataFrame, a CSV path or a run."""
    if isinstance(history, History):
        return history
    return load_history(history)


def history_window(history: History) -> Window:
    """The window a history covers: from its first lead's UTC day to its as-of moment."""
    leads = history.leads
    as_of = pd.Timestamp(history.as_of) if history.as_of is not None else leads["created_at"].max()
    return Window.spanning(leads["created_at"].min(), as_of)


def prepare(
    history,
    *,
    scorecard: Scorecard | None = None,
    horizon_days: float = HORIZON_DAYS,
    target: str = "won",
    grades: int | None = None,
    random_state: int = 0,
) -> LeadInputs:
    """Fit (or use) a scorecard and compute every lead's score, chance, handoff and amount.

    Parameters
    ----------
    history : a ``History``, a lead-table DataFrame, a CSV path or a ``simulate.run`` result.
    scorecard : fitted points to use; default: fit a ``Scorecard`` to the history's labels
        (won, or reached SQL for ``target="sql"``, within ``horizon_days`` of the MQL).
    grades : score on a fit-grade x engagement rule with this many grades instead.
    random_state : passed to the ``Scorecard`` that is fitted.
    """
    history = as_history(history)
    leads = history.leads
    if scorecard is None:
        labels = make_labels(history, target=target, horizon_days=horizon_days)
        scorecard = Scorecard(random_state=random_state).fit(labels.X, labels.y, labels.sample_weight)
    features = list(scorecard.feature_names_in_)
    missing = [f for f in features if f not in leads.columns]
    if missing:
        raise ValueError(f"the history lacks the scorecard's feature column {missing[0]!r}")
    X = leads[features]
    points = scorecard.predict_points(X).astype(float)
    p = scorecard.predict_proba(X)[:, 1]

    window = history_window(history)
    last = window.end_minutes - 1
    created = window.minutes(leads["created_at"])
    handoff = created.copy()
    if "mql_at" in leads and leads["mql_at"].notna().any():
        mql = window.minutes(leads["mql_at"])
        delay = np.nanmedian(mql - created)
        handoff = np.where(np.isfinite(mql), mql, created + delay)
    handoff = np.clip(handoff, 0, last)

    waits = np.zeros(0)
    if {"first_touch_at", "mql_at"} <= set(leads.columns):
        waits = ((leads["first_touch_at"] - leads["mql_at"]).dt.total_seconds() / 60.0).to_numpy(float)
        waits = waits[np.isfinite(waits) & (waits >= 0)]
    back = leads["returned_at"].notna().to_numpy() if "returned_at" in leads else np.zeros(len(leads), dtype=bool)
    returned = window.minutes(leads.loc[back, "returned_at"]) if back.any() else np.zeros(0)

    grade_offset = None
    if grades:
        # two axes: a lead passes the fit-grade x engagement rule made from threshold T iff
        # T <= engagement + (lowest fit score of its grade), a single threshold on that sum
        rules = scorecard.to_rules(threshold=0.0, grades=grades)
        fit = rules.fit_points(leads)
        engagement = rules.engagement_points(leads)
        lowest = -np.asarray(rules.grades.engagement_thresholds, dtype=float)
        grade_offset = lowest[rules.grades.grade(fit)]
        points = engagement + grade_offset
    return LeadInputs(
        score=points,
        p_win=p,
        handoff_min=handoff,
        amount=_expected_amount(leads),
        historical_wait_min=waits,
        window=window,
        scorecard=scorecard,
        grade_offset=grade_offset,
        returns_score=points[back],
        returns_handoff_min=np.clip(returned, 0, last),
        returns_index=np.flatnonzero(back),
    )


def _expected_amount(leads: pd.DataFrame) -> np.ndarray:
    """Expected deal amount per lead: the mean won amount of its lead type (else overall)."""
    n = len(leads)
    if "amount" not in leads or "customer_at" not in leads:
        return np.ones(n)
    won = leads["customer_at"].notna() & leads["amount"].notna()
    if not won.any():
        return np.ones(n)
    overall = float(leads.loc[won, "amount"].mean())
    if "lead_type" in leads:
        by_type = leads.loc[won].groupby(leads.loc[won, "lead_type"].astype("object"))["amount"].mean()
        return leads["lead_type"].astype("object").map(by_type).fillna(overall).to_numpy(float)
    return np.full(n, overall)
