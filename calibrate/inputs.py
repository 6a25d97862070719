"""From a history to what the trade-offs are computed from, one entry per lead.

``prepare`` fits (or uses) a ``Scorecard`` and gives every lead its points, its fitted chance
to win once worked, the moment it would be handed to sales, its expected amount, and the
waits the history's worked leads had; with the ``Window`` the history covers. Every figure is
point in time where the history has its events (see ``calibrate.point_in_time``).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd

from calibrate.capacity import HORIZON_DAYS, SalesCapacity, Window
from calibrate.deal_amounts import amount_dispersion, expected_amounts
from calibrate.held_out import held_out_values
from calibrate.history import History, load_history
from calibrate.labels import explored_leads, make_labels, worked_leads
from calibrate.point_in_time import PointInTimeWarning, ScorePath, counts_at, look_ahead_backtest, peak_scores
from calibrate.reachability import estimate_reachability
from calibrate.return_trips import history_return_trips, reached_on_return, return_candidates
from calibrate.scorecard import Scorecard
from simulate.table import BEHAVIOUR_COLUMNS

__all__ = ["LeadInputs", "as_history", "prepare", "represented_by_exploration"]

NEIGHBOURS = 200
"""Worked leads whose mean chance bounds an unworked lead's from above (``plausible_high_p``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class LeadInputs:
    """What the trade-offs are computed from, one entry per lead of the history.

    ``score`` the points under the scorecard (or the fit-grade x engagement sum, see
    ``prepare``); ``p_win`` the fitted chance to win once worked; ``handoff_min`` when the
    lead is handed to sales (its MQL moment, else its creation plus the median delay),
    minutes since ``window.start``; ``amount`` the expected deal amount;
    ``historical_wait_min`` the waits to first touch the worked leads had. Leads that came
    back from nurture are handed to sales twice: ``returns_*`` give their second trip
    (``returns_score`` its ceiling, the highest threshold it happens under, and with the
    held-out valuation ``returns_won`` whether it won on it; ``returns_happened`` those the
    history made, the others are trips another threshold would bring, ``calibrate.return_trips``).
    ``contact_rate`` / ``bad_data_share``: per lead, how reachable it is, learned from the
    history's first touches (``calibrate.reachability``; ``None`` where the history does not
    record it); ``with_reachability`` puts them into a ``SalesCapacity``.
    ``old_mql`` marks the leads the rules in force made MQLs, ``worked`` those sales worked
    (the only ones with an outcome, see ``credited_p_win``), ``represented`` the unworked
    leads an exploration sample stands for (``represented_by_exploration``);
    ``point_in_time`` says whether
    the scores and chances are what was known at the decision (events or snapshot counts).
    Where the points were fitted here with a cross-fit, ``outcome`` holds each judged lead's
    own outcome (nan for the others), ``held_out_*`` the held-out valuation of the thresholds
    (``calibrate.held_out``: chance, amount, the lead each one stands for).
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
    old_mql: np.ndarray | None = None
    point_in_time: bool = False
    worked: np.ndarray | None = None
    amount_dispersion: float = 1.0
    path: ScorePath | None = None
    contact_rate: np.ndarray | None = None
    bad_data_share: np.ndarray | None = None
    represented: np.ndarray | None = None
    outcome: np.ndarray | None = None
    held_out_p: np.ndarray | None = None
    held_out_amount: np.ndarray | None = None
    held_out_source: np.ndarray | None = None
    returns_won: np.ndarray | None = None
    returns_happened: np.ndarray | None = None
    returns_amount: np.ndarray | None = None

    @property
    def outcome_known(self) -> np.ndarray:
        """Leads whose region of the score the history has outcomes for: worked, or stood
        for by an exploration sample."""
        n = self.score.size
        worked = np.ones(n, dtype=bool) if self.worked is None else self.worked
        return worked if self.represented is None else worked | self.represented

    def with_handoff_for(self, threshold: float) -> LeadInputs:
        """The leads handed to sales when a threshold of ``threshold`` makes them MQLs: at the
        moment their score first reaches it (``ScorePath.first_reaching``), as the CRM hands
        them over; unchanged without events or for leads that never reach it.

        The trade-off table is computed with one handoff moment per lead; the one that counts
        is that of the chosen threshold, and those near it (``recommend`` recomputes the table
        with the handoffs of its first choice).
        """
        if self.path is None:
            return self
        at = self.path.first_reaching(threshold)
        moment = self.window.minutes(at)
        reach = (self.score >= threshold) & np.isfinite(moment)
        handoff = np.where(reach, np.clip(moment, 0, self.window.end_minutes - 1), self.handoff_min)
        return dataclasses.replace(self, handoff_min=handoff)

    def with_reachability(self, capacity: SalesCapacity) -> SalesCapacity:
        """``capacity`` with each trip's own contact rate and bad-data share, where the history
        told them (``calibrate.reachability``); unchanged otherwise."""
        if self.contact_rate is None:
            return capacity
        trips = slice(None) if self.returns_index is None else np.r_[np.arange(self.score.size), self.returns_index]
        return capacity.replace(contact_rate=self.contact_rate[trips], bad_data_share=self.bad_data_share[trips])

    def credited_p_win(self, credit_unworked: bool = False) -> np.ndarray:
        """The chances the expected wins are summed over: 0 for leads sales never worked.

        The history holds outcomes only for the leads sales worked; for the others ``p_win``
        is the scorecard extrapolated beyond the leads it learned from, and measured on the
        simulator's truth that extrapolation is several times too high (those leads stayed
        below the old threshold for a reason the counts do not show). By default their
        chance is not counted: a threshold that reaches them carries their load and no
        credited value (an exploration sample, ``make_labels(exploration=...)``, gives
        them outcomes). ``credit_unworked=True`` counts the extrapolation.
        """
        if credit_unworked or self.worked is None:
            return self.p_win
        return np.where(self.outcome_known, self.p_win, 0.0)

    def threshold_values(self, credit_unworked: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """The chance and amount per lead that the thresholds on these points are valued with.

        Where the points were fitted to this history (``prepare`` with ``cross_fit``), each
        threshold is judged on outcomes that did not choose it (``calibrate.held_out``): the
        sum over a threshold's leads is the held-out value of its volume in every fold, free
        of the winner's curse of summing the chances over the leads the same fit ranks
        highest. Otherwise, and for rule sets not chosen on these points (the current rules),
        the chances of ``credited_p_win``. Leads sales never worked are credited 0 as there.
        """
        if self.held_out_p is None:
            return self.credited_p_win(credit_unworked), self.amount
        p = self.held_out_p
        if not credit_unworked and self.worked is not None:
            p = np.where(self.outcome_known, p, 0.0)
        return p, self.held_out_amount

    def return_values(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(won, amount)`` of each trip back from nurture, where the thresholds are valued
        on first-trip outcomes (``threshold_values``); ``None`` where the chances already
        hold the trips' value."""
        if self.returns_won is None:
            return None
        return self.returns_won, self.returns_amount

    def counted_by(self, chosen: np.ndarray) -> np.ndarray:
        """The leads whose outcomes a threshold's MQLs ``chosen`` count in ``threshold_values``
        (the held-out fold selections of its volume; ``chosen`` itself without them)."""
        chosen = np.asarray(chosen, dtype=bool)
        if self.held_out_source is None:
            return chosen
        counted = np.zeros(chosen.size, dtype=bool)
        counted[self.held_out_source[chosen]] = True
        return counted

    def outcome_values(self, credit_unworked: bool = False) -> np.ndarray:
        """The chances a rule set not chosen on these points is valued with (the current
        rules): each judged lead's own outcome, which did not choose it, where the points were
        fitted here (as ``threshold_values`` counts the candidates' leads, so the two sums pair
        on the leads both count); otherwise and elsewhere ``credited_p_win``."""
        p = self.credited_p_win(credit_unworked)
        if self.outcome is None:
            return p
        return np.where(np.isfinite(self.outcome), self.outcome, p)

    def plausible_high_p(self, neighbours: int = NEIGHBOURS) -> np.ndarray:
        """The highest plausible chance of each lead (its own chance where the outcome is known).

        For a lead in a region the history never worked, two curves are plausible where
        nothing was observed: the scorecard's extrapolation (``p_win``), and a conversion as
        good as that of the worked leads just above it on the same points (the mean chance
        of the ``neighbours`` worked leads whose score is the next at or above its own: the
        most a lead can have if the chance grows with the score). The higher of the two is
        the top of the envelope; the bottom is 0 (such leads may not convert at all).
        """
        known = self.outcome_known
        if known.all() or not known.any():
            return self.p_win.copy()
        order = np.argsort(self.score[known], kind="stable")
        scores, chances = self.score[known][order], self.p_win[known][order]
        cumulative = np.r_[0.0, np.cumsum(chances)]
        start = np.searchsorted(scores, self.score[~known], side="left")
        start = np.minimum(start, scores.size - 1)
        stop = np.minimum(start + neighbours, scores.size)
        start = np.maximum(stop - neighbours, 0)
        above = (cumulative[stop] - cumulative[start]) / (stop - start)
        out = self.p_win.copy()
        out[~known] = np.maximum(self.p_win[~known], above)
        return out

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
    """The MQL window of a history: from its first lead's UTC day to the last moment a lead
    arrived or became an MQL. Per-month figures are per month of this window; outcomes may
    be observed later, up to the as-of date (the outcome window), which does not lengthen
    it: an export taken months after its last lead does not spread the same MQLs thinner."""
    leads = history.leads
    last = leads["created_at"].max()
    if "mql_at" in leads and leads["mql_at"].notna().any():
        last = max(last, leads["mql_at"].max())
    if history.as_of is not None:
        last = min(last, pd.Timestamp(history.as_of))
    return Window.spanning(leads["created_at"].min(), last)


def prepare(
    history,
    *,
    scorecard: Scorecard | None = None,
    horizon_days: float = HORIZON_DAYS,
    target: str = "won",
    grades: int | None = None,
    random_state: int = 0,
    score_until: str = "as_of",
    cross_fit: int = 10,
    exploration: str | np.ndarray | None = None,
    exploration_share: float | str | np.ndarray | None = None,
) -> LeadInputs:
    """Fit (or use) a scorecard and compute every lead's score, chance, handoff and amount.

    Point in time: with the history's events (``History.events``) the points are fitted on
    the counts each lead had at its MQL moment (``make_labels``); each lead's ``score`` is
    the highest its running score reached while its events happened (``peak_scores``: an
    MQL of threshold ``T`` iff the peak reaches ``T``, as the CRM decides), and its chance
    ``p_win`` is read from what was known when it was handed to sales: its MQL moment for a
    lead the rules in force made an MQL, else the moment it reached its peak. Without events
    the lead table's counts are used as they are; if they are end-of-history totals
    (``History.counts_at == "end"``) a ``PointInTimeWarning`` names the columns and what
    they add on an out-of-time backtest.

    Parameters
    ----------
    history : a ``History``, a lead-table DataFrame, a CSV path or a ``simulate.run`` result.
    scorecard : fitted points to use; default: fit a ``Scorecard`` to the history's labels
        (won, or reached SQL for ``target="sql"``, within ``horizon_days`` of the MQL).
    grades : score on a fit-grade x engagement rule with this many grades instead.
    random_state : passed to the ``Scorecard`` that is fitted.
    score_until : with events, follow each lead's score up to ``"as_of"`` (default) or only
        up to its ``"first_touch"`` by sales (where activity after a call may be sales' own
        doing, such as a demo the rep booked).
    cross_fit : when the scorecard is fitted here, each lead it learned from gets its chance
        from one of this many fold fits that did not see it (1: the fit's own, in-sample
        chance). Summing in-sample chances over the leads the same points rank highest
        promises more than new leads give (the fit has learned those leads' own outcomes).
        Ten folds, as is usual in cross-validation: a fold fit learns from 9/10 of the
        outcomes, and the held-out value of a threshold (``calibrate.held_out``) estimates
        what such a fit selects; with five folds (4/5) it under-stated the full fit's wins by
        13% on a small world with few wins (3 reps, 2,400 leads a month), with ten by 6.5%,
        and over 25 histories of the promise worlds the two did not differ otherwise.
    exploration, exploration_share : an exploration sample of below-threshold leads worked
        at random (see ``calibrate.make_labels``): weighted in the fit, and the unworked
        leads it stands for count as leads with known outcomes
        (``represented_by_exploration``).
    """
    if score_until not in ("as_of", "first_touch"):
        raise ValueError(f"score_until must be 'as_of' or 'first_touch', got {score_until!r}")
    history = as_history(history)
    leads = history.leads
    labels = None
    if scorecard is None:
        labels = make_labels(
            history,
            target=target,
            horizon_days=horizon_days,
            exploration=exploration,
            exploration_share=exploration_share,
        )
        scorecard = Scorecard(random_state=random_state).fit(labels.X, labels.y, labels.sample_weight)
    _warn_end_totals(history, labels, scorecard, random_state)
    features = list(scorecard.feature_names_in_)
    missing = [f for f in features if f not in leads.columns]
    if missing:
        raise ValueError(f"the history lacks the scorecard's feature column {missing[0]!r}")

    window = history_window(history)
    last = window.end_minutes - 1
    created = window.minutes(leads["created_at"])
    old_mql = leads["mql_at"].notna().to_numpy() if "mql_at" in leads else np.zeros(len(leads), dtype=bool)
    scorer, grade_of = _scorer(scorecard, grades)
    path = None
    if history.events is not None:
        points, p, handoff, X, path = _point_in_time(history, scorecard, scorer, score_until, old_mql, window)
    else:
        X = leads[features]
        points = scorer(X)
        p = scorecard.predict_proba(X)[:, 1]
        handoff = created.copy()
        if old_mql.any():
            mql = window.minutes(leads["mql_at"])
            delay = np.nanmedian(mql - created)
            handoff = np.where(np.isfinite(mql), mql, created + delay)
    handoff = np.clip(handoff, 0, last)
    amount = expected_amounts(leads)
    held_out = outcome = None
    if labels is not None and cross_fit > 1:
        p, fits = _cross_fitted(p, labels, scorecard, X, leads, cross_fit, random_state)
        fold_score = _fold_scores(history, fits, points, X, grades, score_until)
        outcome = np.full(len(leads), np.nan)
        outcome[fits.pos] = labels.y
        # the thresholds are valued on first trips; the trips back count by their ceiling
        first_trip = labels.y & ~reached_on_return(leads, labels.target)[fits.pos]
        held_out = held_out_values(p, amount, points, fits.pos, first_trip, fits.fold, fold_score)
    trips = history_return_trips(
        leads, _path_to_as_of(history, scorer, features, path, score_until), points, amount, outcome, target
    )

    waits = np.zeros(0)
    if {"first_touch_at", "mql_at"} <= set(leads.columns):
        waits = ((leads["first_touch_at"] - leads["mql_at"]).dt.total_seconds() / 60.0).to_numpy(float)
        waits = waits[np.isfinite(waits) & (waits >= 0)]
    returned = np.zeros(0) if trips is None else window.minutes(trips.at)

    grade_offset = grade_of(X) if grades else None
    reach = estimate_reachability(leads, p)
    return LeadInputs(
        score=points,
        p_win=p,
        handoff_min=handoff,
        amount=amount,
        amount_dispersion=amount_dispersion(leads, amount),
        path=path,
        contact_rate=None if reach is None else reach[0],
        bad_data_share=None if reach is None else reach[1],
        historical_wait_min=waits,
        window=window,
        scorecard=scorecard,
        grade_offset=grade_offset,
        returns_score=np.zeros(0) if trips is None else trips.ceiling,
        returns_handoff_min=np.clip(returned, 0, last),
        returns_index=np.zeros(0, dtype=np.int64) if trips is None else trips.index,
        returns_happened=np.zeros(0, dtype=bool) if trips is None else trips.happened,
        returns_won=trips.won if trips is not None and held_out is not None else None,
        returns_amount=trips.amount if trips is not None else None,
        old_mql=old_mql,
        worked=worked_leads(leads),
        represented=represented_by_exploration(leads, exploration),
        point_in_time=history.events is not None or history.counts_at == "decision",
        outcome=outcome,
        held_out_p=None if held_out is None else held_out[0],
        held_out_amount=None if held_out is None else held_out[1],
        held_out_source=None if held_out is None else held_out[2],
    )


def represented_by_exploration(leads: pd.DataFrame, exploration) -> np.ndarray | None:
    """The unworked leads an exploration sample stands for (``None`` without one).

    The sample was drawn at random among the leads the old rules left below the threshold,
    so it stands for those whose old score lies within the range it was drawn from (the
    lowest to the highest old ``score`` of the explored leads; every unworked lead where the
    history has no old score).
    """
    if exploration is None:
        return None
    worked = worked_leads(leads)
    explored = explored_leads(leads, exploration)
    if not explored.any():
        return np.zeros(len(leads), dtype=bool)
    unworked = ~worked
    if "score" not in leads or leads["score"].isna().all():
        return unworked
    old = pd.to_numeric(leads["score"], errors="coerce").to_numpy(dtype=float)
    low, high = np.nanmin(old[explored]), np.nanmax(old[explored])
    return unworked & (old >= low) & (old <= high)


@dataclasses.dataclass(frozen=True, slots=True)
class _FoldFits:
    """The cross-fit: judged leads' positions in the lead table, their folds, and per fold
    the scorecard fitted without it (``None`` where too few outcomes were left to fit)."""

    pos: np.ndarray
    fold: np.ndarray
    cards: list


def _cross_fitted(p, labels, scorecard: Scorecard, X: pd.DataFrame, leads: pd.DataFrame, folds: int, seed: int):
    """``p`` with each judged lead's chance from a fold fit that did not learn its outcome,
    and the fold fits (``_FoldFits``)."""
    from sklearn.base import clone

    pos = pd.Series(np.arange(len(leads)), index=leads["lead_id"].to_numpy()).loc[labels.lead_id].to_numpy()
    fold = np.random.default_rng(seed).permutation(len(pos)) % folds
    out = np.array(p, dtype=float)
    cards = []
    for k in range(folds):
        train = fold != k
        if len(np.unique(labels.y[train])) < 2:
            cards.append(None)  # too few outcomes for this fold: the lead keeps the full fit's chance
            continue
        card = clone(scorecard).fit(labels.X[train], labels.y[train], labels.sample_weight[train])
        rows = pos[fold == k]
        out[rows] = card.predict_proba(X.iloc[rows])[:, 1]
        cards.append(card)
    return out, _FoldFits(pos=pos, fold=fold, cards=cards)


def _fold_scores(history: History, fits: _FoldFits, points: np.ndarray, X: pd.DataFrame, grades, score_until: str):
    """Each judged lead's score under the fold fit that did not learn its outcome, scored as
    the full fit's ``points`` are (the peak through its events, else on its features); the
    full fit's where its fold could not be fitted."""
    out = points[fits.pos].astype(float)
    leads = history.leads.reset_index(drop=True)
    for k, card in enumerate(fits.cards):
        if card is None:
            continue
        members = np.flatnonzero(fits.fold == k)
        rows = fits.pos[members]
        scorer, _ = _scorer(card, grades)
        if history.events is None:
            out[members] = scorer(X.iloc[rows])
            continue
        sub = leads.iloc[rows]
        until = _followed_until(sub, history.as_of, score_until)
        out[members] = peak_scores(scorer, list(card.feature_names_in_), sub, history.events, until)[0]
    return out


def _scorer(scorecard: Scorecard, grades: int | None):
    """The score a threshold is set on, as a function of the features; and the grade offset.

    Single axis: the scorecard's points. Two axes: a lead passes the fit-grade x engagement
    rule made from threshold ``T`` iff ``T <= engagement + (lowest fit score of its grade)``,
    a single threshold on that sum.
    """
    if not grades:
        return (lambda X: scorecard.predict_points(X).astype(float)), None
    rules = scorecard.to_rules(threshold=0.0, grades=grades)
    lowest = -np.asarray(rules.grades.engagement_thresholds, dtype=float)

    def offset(X: pd.DataFrame) -> np.ndarray:
        return lowest[rules.grades.grade(rules.fit_points(X))]

    return (lambda X: rules.engagement_points(X) + offset(X)), offset


def _path_to_as_of(history: History, scorer, features: list[str], path, score_until: str):
    """The score path up to the as-of date of the leads that may come back from nurture
    (``return_candidates``; the prepared ``path`` where it already runs there)."""
    if path is None or score_until == "as_of" or "returned_at" not in history.leads:
        return path
    leads = history.leads.reset_index(drop=True)
    candidates = return_candidates(leads)
    if candidates.size == 0:
        return path
    sub = leads.iloc[candidates].reset_index(drop=True)
    until = pd.Series(history.as_of, index=sub.index)
    part = peak_scores(scorer, features, sub, history.events, until)[3]
    return ScorePath(row=candidates[part.row], at_ns=part.at_ns, points=part.points, n=len(leads))


def _followed_until(leads: pd.DataFrame, as_of, score_until: str) -> pd.Series:
    """The moment each lead's score is followed to: the as-of date, or its first touch
    (``score_until="first_touch"``) where it had one."""
    until = pd.Series(as_of, index=leads.index)
    if score_until == "first_touch" and "first_touch_at" in leads:
        until = leads["first_touch_at"].where(leads["first_touch_at"].notna(), until)
    return until


def _point_in_time(
    history: History, scorecard: Scorecard, scorer, score_until: str, old_mql: np.ndarray, window: Window
):
    """Peak score, chance at the handoff, handoff minute and the features then, per lead."""
    leads = history.leads.reset_index(drop=True)
    features = list(scorecard.feature_names_in_)
    until = _followed_until(leads, history.as_of, score_until)
    points, reached_at, X, path = peak_scores(scorer, features, leads, history.events, until)
    handoff_at = reached_at.copy()
    if old_mql.any():
        handoff_at[old_mql] = leads.loc[old_mql, "mql_at"].to_numpy()
        counts = [c for c in features if c in BEHAVIOUR_COLUMNS]
        at_mql = counts_at(leads.loc[old_mql, "lead_id"].to_numpy(), handoff_at[old_mql], history.events, counts)
        X.loc[old_mql, counts] = at_mql.to_numpy()
    p = scorecard.predict_proba(X)[:, 1]
    return points, p, window.minutes(handoff_at), X, path


def _warn_end_totals(history: History, labels, scorecard: Scorecard, random_state: int) -> None:
    """Warn when the fit uses end-of-history counters (see ``PointInTimeWarning``)."""
    if history.events is not None or history.counts_at != "end":
        return
    leads = history.leads
    counts = [c for c in scorecard.feature_names_in_ if c in BEHAVIOUR_COLUMNS and leads[c].notna().any()]
    if not counts:
        return
    effect = ""
    auc = look_ahead_backtest(labels, counts, random_state=random_state) if labels is not None else None
    if auc is not None:
        effect = (
            f" On an out-of-time backtest (older 70% of the judged leads fit, newer 30% test) they "
            f"take the ROC AUC from {auc[1]:.2f} without them to {auc[0]:.2f}; part of that gain "
            "is activity after the decision, which a new lead does not have yet."
        )
    warnings.warn(
        f"{history.source}: the behaviour counts {', '.join(repr(c) for c in counts)} are "
        f"end-of-history totals (as of {history.as_of:%Y-%m-%d}): they include what each lead "
        f"did after it became an MQL and after sales called it.{effect} The points are fitted "
        "and the thresholds weighed on them as if that were known at the MQL moment. Give the "
        "events (load_history(..., events=FILE) or --events FILE), or counts taken at the MQL "
        'moment (load_history(..., counts_at="decision")).',
        PointInTimeWarning,
        stacklevel=3,
    )
