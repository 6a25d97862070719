"""Labels: which leads can be judged, what their outcome was, and which columns may be features.

A lead is *worked* when sales had it: it became an MQL, or a rep touched it, or it reached a
later stage. Its clock starts when it became an MQL (else at the first touch, else at its
earliest later stage), and its label is

    y = the lead reached the target (won, or SQL) within ``horizon_days`` of its clock start.

Leads whose clock started less than ``horizon_days`` before the as-of date are *too young*:
they might still reach the target, so they are held out (and counted), never labelled lost.
Leads never worked have no outcome at all; when only the MQLs of an old threshold were
worked, the fit only sees leads above it (selection bias, warned with numbers). An
*exploration sample*, below-threshold leads worked anyway, corrects it: each explored lead
weighs ``1 / exploration_share``, so the weighted leads stand for everyone.

The leakage guard (``calibrate.leakage``) refuses columns that are only filled after sales
worked the lead, by name and by evidence (filled far more often for winners, values that
separate them almost perfectly), with the numbers; ``allow`` overrules it by name. An
opportunity list (every row already has a deal) is refused: it holds no MQL decision
(``calibrate.shape``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from calibrate.history import History
from calibrate.leakage import NAME_RULES, SALES_SIDE, LeakageError, leakage_report  # noqa: F401
from calibrate.point_in_time import counts_at
from calibrate.shape import check_decision
from simulate.exploration import EXPLORATION_COLUMNS
from simulate.table import BEHAVIOUR_COLUMNS, CATEGORICAL_ATTRIBUTES, validate_events

FEATURE_DEFAULTS = (
    "source",
    "lead_type",
    "campaign",
    *CATEGORICAL_ATTRIBUTES,
    "company_size",
    *BEHAVIOUR_COLUMNS,
)


class SelectionBiasWarning(UserWarning):
    """Outcomes exist only for leads the old rules sent to sales."""


@dataclass(frozen=True, slots=True, eq=False)
class Labels:
    """Training data cut from a history (see the module docstring).

    Attributes
    ----------
    X : features of the judged leads (one row each).
    y : reached the target within the horizon.
    sample_weight : 1, or ``1 / exploration_share`` for an explored lead.
    lead_id, created_at, start_at : per judged lead; ``start_at`` is the clock start.
    counts : how many leads were read, worked, judged, held out, won...
    refused : columns the leakage guard refused, with the reason.
    target, horizon_days, as_of, exploration_share : what was asked for.
    """

    X: pd.DataFrame
    y: np.ndarray
    sample_weight: np.ndarray
    lead_id: np.ndarray
    created_at: pd.Series
    start_at: pd.Series
    counts: pd.Series
    refused: pd.DataFrame
    target: str
    horizon_days: float | None
    as_of: pd.Timestamp
    exploration_share: float | None
    explored: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def __repr__(self) -> str:
        return (
            f"Labels(target={self.target!r}, horizon_days={self.horizon_days}, "
            f"judged={len(self):,}, "
            f"positives={int(self.y.sum()):,}, features={list(self.X.columns)})"
        )

    def subset(self, mask: np.ndarray) -> Labels:
        """The labels of some leads (a boolean mask over the judged leads)."""
        m = np.asarray(mask, dtype=bool)
        return Labels(
            X=self.X.loc[m].reset_index(drop=True),
            y=self.y[m],
            sample_weight=self.sample_weight[m],
            lead_id=self.lead_id[m],
            created_at=self.created_at[m].reset_index(drop=True),
            start_at=self.start_at[m].reset_index(drop=True),
            counts=self.counts,
            refused=self.refused,
            target=self.target,
            horizon_days=self.horizon_days,
            as_of=self.as_of,
            exploration_share=self.exploration_share,
            explored=self.explored[m],
        )

    def split_by_time(self, *, at: str | pd.Timestamp | None = None, test_share: float = 0.3) -> tuple[Labels, Labels]:
        """Older leads to train on, newer to test on, split at a clock-start moment.

        ``at`` defaults to the moment that leaves ``test_share`` of the judged leads newer.
        """
        start = self.start_at
        if start.isna().all() or start.nunique() < 2:
            raise ValueError("split_by_time: the history has no dates to split on (every clock start is the same)")
        if at is None:
            at = start.quantile(1 - test_share)
        at = pd.Timestamp(at)
        at = at.tz_localize("UTC") if at.tzinfo is None else at
        newer = (start >= at).to_numpy()
        if newer.all() or not newer.any():
            raise ValueError(f"split_by_time: every judged lead falls on one side of {at}")
        return self.subset(~newer), self.subset(newer)


def make_labels(
    history: History,
    *,
    target: str = "won",
    horizon_days: float | None = 90.0,
    features: Sequence[str] | None = None,
    allow: Sequence[str] = (),
    exploration: str | np.ndarray | None = None,
    exploration_share: float | str | np.ndarray | None = None,
    events: pd.DataFrame | None = None,
) -> Labels:
    """Label the leads of a history (see the module docstring).

    Parameters
    ----------
    history : from ``load_history``.
    target : ``"won"`` (a win, ``customer_at``) or ``"sql"`` (reached SQL or a later stage).
    horizon_days : the window after the clock start; ``None`` for "ever" (only when the
        history's outcomes are final: nothing is held out as too young).
    features : the feature columns; default the lead table's fit and behaviour columns that
        hold values, plus the export's extra columns the leakage guard lets through (the old
        ``score`` is left out: it is the old rules applied to the same columns).
    allow : columns to use even though the leakage guard refuses them.
    exploration : which worked leads are an exploration sample (below-threshold leads worked
        anyway, at random): ``"auto"`` for the worked leads that never became MQLs, a boolean
        mask, a column name, or ``None`` (default) for no correction. Only name leads that
        were picked at random: a lead sales chose to work is not a sample of the others.
    exploration_share : the chance with which the exploration policy sampled each explored
        lead: one number, an array with one entry per lead, or a column name (an experiment
        of ``simulate.run_with_exploration`` or ``calibrate.exploration_plan`` records
        ``"exploration_share"``, which differs by score band); each explored lead weighs
        ``1 / its share``. Default: explored leads / all leads that never became MQLs.
        The exploration columns (``simulate.exploration.EXPLORATION_COLUMNS``) are never
        features.
    events : the behaviour events (``lead_id, at, kind``); default the history's own
        (``History.events``). With events the count columns are recounted up to each lead's
        clock start (its MQL moment), so activity after it cannot leak. They are validated
        against the history's leads (``simulate.table.validate_events``); events of leads
        ``load_history`` rejected leave with their leads.

    Examples
    --------
    >>> from calibrate.history import load_history
    >>> leads = pd.DataFrame({
    ...     "lead_id": [1, 2, 3, 4],
    ...     "created_at": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-05-20"],
    ...     "mql_at": ["2026-01-01", "2026-01-02", "2026-01-04", "2026-05-21"],
    ...     "customer_at": ["2026-01-20", None, "2026-03-30", None],
    ...     "source": ["web", "ads", "web", "ads"], "lead_type": "new_business",
    ...     "Tags": ["closed", "ringing", "closed", None]})
    >>> labels = make_labels(load_history(leads, as_of="2026-06-01"), horizon_days=30)
    >>> labels.lead_id.tolist(), labels.y.tolist(), int(labels.counts["too_young"])
    ([1, 2, 3], [True, False, False], 1)
    >>> list(labels.X.columns), labels.refused.set_index("column").loc["Tags", "rule"]
    (['source'], 'name')
    """
    if target not in ("won", "sql"):
        raise ValueError(f"target must be 'won' or 'sql', got {target!r}")
    if horizon_days is not None and not horizon_days > 0:
        raise ValueError(f"horizon_days must be > 0 or None, got {horizon_days!r}")
    leads = history.leads
    n = len(leads)
    if n == 0:
        raise ValueError(f"{history.source}: the history has no leads")
    check_decision(history.shape, history.source)
    if events is not None:
        events = _history_events(events, history)
    elif history.events is not None:
        events = history.events
    as_of = history.as_of
    worked, is_mql, start, won_true = _clock_start(leads)
    event_at, reached = _target_reached(leads, target, won_true)
    undated = reached & event_at.isna().to_numpy()
    young, y_all = _censor(worked, start, event_at, reached, undated, as_of, horizon_days)
    judged = worked & ~young
    _check_judged(history, judged, worked, young, y_all, target, horizon_days)

    explored = _explored(exploration, leads, worked, is_mql)
    weights, share = _exploration_weights(
        explored, ~is_mql, _shares(exploration_share, leads, history.source), history.source
    )
    old_enough = np.ones(n, dtype=bool)
    if horizon_days is not None:
        old = _column(leads, "created_at") <= as_of - pd.Timedelta(days=float(horizon_days))
        old_enough = old.to_numpy(dtype=bool, na_value=False)
    _warn_selection(leads, worked, is_mql, explored, judged, share, old_enough, history.source)

    design = {c for c in (exploration, exploration_share) if isinstance(c, str)} | set(EXPLORATION_COLUMNS)
    features = _features(leads, features, allow, y_all, worked, judged, history, design)
    X = leads.loc[judged, features].reset_index(drop=True)
    kinds = [c for c in BEHAVIOUR_COLUMNS if c in X.columns]
    if events is not None and kinds:
        counts = counts_at(leads.loc[judged, "lead_id"].to_numpy(), start[judged].reset_index(drop=True), events, kinds)
        X = X.assign(**{c: counts[c].to_numpy() for c in kinds})
    filled = [c for c in leads.columns if c != "lead_id" and leads[c].notna().any()]
    refused = leakage_report(leads, filled, y=y_all if judged.any() else None, worked=worked, judged=judged)
    return Labels(
        X=X,
        y=y_all[judged].astype(bool),
        sample_weight=weights[judged],
        lead_id=leads.loc[judged, "lead_id"].to_numpy(),
        created_at=leads.loc[judged, "created_at"].reset_index(drop=True),
        start_at=start[judged].reset_index(drop=True),
        counts=_counts(worked, young, judged, y_all, undated, explored),
        refused=refused,
        target=target,
        horizon_days=horizon_days,
        as_of=as_of,
        exploration_share=share,
        explored=explored[judged],
    )


def _counts(worked, young, judged, y_all, undated, explored) -> pd.Series:
    """How many leads were read, worked, judged, held out, reached the target..."""
    return pd.Series(
        {
            "leads": len(worked),
            "worked": int(worked.sum()),
            "never_worked": int((~worked).sum()),
            "too_young": int(young.sum()),
            "judged": int(judged.sum()),
            "reached_target": int(y_all[judged].sum()),
            "reached_without_date": int((undated & judged).sum()),
            "explored": int((explored & judged).sum()),
        },
        name="leads",
    )


def _explored_at(leads: pd.DataFrame) -> pd.Series:
    """When an exploration experiment handed each lead to sales (missing for the others)."""
    at = _column(leads, "explored_at")
    if pd.api.types.is_datetime64_any_dtype(at):
        return at.dt.tz_localize("UTC") if at.dt.tz is None else at
    parsed = pd.to_datetime(at, utc=True, errors="coerce")
    bad = np.flatnonzero(parsed.isna().to_numpy() & at.notna().to_numpy())
    if bad.size:
        raise ValueError(f"column 'explored_at', row {int(bad[0])}: {at.iloc[bad[0]]!r} is not a date")
    return parsed


def _column(leads: pd.DataFrame, name: str | None) -> pd.Series:
    """A time column of the lead table, or missing times where the history has none."""
    if name in leads.columns:
        return leads[name]
    return pd.Series(pd.NaT, index=leads.index, dtype="datetime64[ns, UTC]")


def _censor(worked, start, event_at, reached, undated, as_of, horizon_days) -> tuple[np.ndarray, np.ndarray]:
    """Which worked leads are too young to judge, and which reached the target in the window.

    A target reached without a date counts as reached in the window.
    """
    if horizon_days is None:
        return np.zeros(len(worked), dtype=bool), reached
    h = pd.Timedelta(days=float(horizon_days))
    young = worked & (start > as_of - h).to_numpy(dtype=bool, na_value=False)
    within = ((event_at - start) <= h).to_numpy(dtype=bool, na_value=False)
    return young, within | undated


def worked_leads(leads: pd.DataFrame) -> np.ndarray:
    """Which leads sales worked (see the module docstring): the only ones with an outcome."""
    return _clock_start(leads)[0]


def _clock_start(leads: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Series, np.ndarray]:
    """Which leads were worked and became MQLs, when each lead's clock starts, and the known wins.

    The clock starts at the MQL moment, else when an exploration experiment handed the lead
    to sales (``explored_at``), else at the first touch, else at the earliest later
    stage; a lead never worked starts at its creation.
    """
    won = leads["won"] if "won" in leads.columns else pd.Series(pd.NA, index=leads.index, dtype="boolean")
    won_true = won.fillna(False).astype(bool).to_numpy()
    stages = ("first_touch_at", "returned_at", "sal_at", "sql_at", "opportunity_at", "customer_at", "closed_at")
    later = [c for c in stages if c in leads.columns]
    first_later = leads[later].min(axis=1) if later else _column(leads, None)
    first_later = pd.to_datetime(first_later, utc=True)
    mql = _column(leads, "mql_at")
    is_mql = mql.notna().to_numpy()
    worked = is_mql | first_later.notna().to_numpy() | won.notna().to_numpy()
    # an explored lead's clock starts when it was handed to sales (``explored_at``)
    start = mql.where(mql.notna(), _explored_at(leads))
    start = start.where(start.notna(), _column(leads, "first_touch_at"))
    start = start.where(start.notna(), first_later)
    start = start.where(start.notna() | ~pd.Series(worked, index=leads.index), _column(leads, "created_at"))
    return worked, is_mql, start, won_true


def _target_reached(leads: pd.DataFrame, target: str, won_true: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """When each lead reached the target (missing if not, or not dated), and whether it did."""
    if target == "won":
        event_at = _column(leads, "customer_at")
        closed_won = _column(leads, "closed_at").where(pd.Series(won_true, index=leads.index))
        event_at = event_at.where(event_at.notna(), closed_won)
    else:
        event_at = _column(leads, "sql_at")
        for c in ("opportunity_at", "customer_at"):
            event_at = event_at.where(event_at.notna(), _column(leads, c))
    return event_at, event_at.notna().to_numpy() | won_true


def _shares(exploration_share, leads: pd.DataFrame, source: str) -> np.ndarray | None:
    """The sampling chance of every lead (``make_labels(exploration_share=...)``)."""
    if exploration_share is None:
        return None
    if isinstance(exploration_share, str):
        if exploration_share not in leads.columns:
            raise KeyError(f"{source}: exploration_share column {exploration_share!r} is not in the lead table")
        return pd.to_numeric(leads[exploration_share], errors="coerce").to_numpy(dtype=float)
    if np.ndim(exploration_share) == 0:
        share = float(exploration_share)
        if not 0 < share <= 1:
            raise ValueError(f"exploration_share must be in (0, 1], got {exploration_share!r}")
        return np.full(len(leads), share)
    values = np.asarray(exploration_share, dtype=float)
    if values.shape != (len(leads),):
        raise ValueError(f"exploration_share must have one entry per lead ({len(leads)}), got {values.shape}")
    return values


def _exploration_weights(
    explored: np.ndarray, below: np.ndarray, shares: np.ndarray | None, source: str = "history"
) -> tuple[np.ndarray, float | None]:
    """Weight ``1 / share`` for each explored lead (1 for the others), and the mean share.

    An explored lead whose own share is missing or outside (0, 1] is an error naming it."""
    if not explored.any():
        return np.ones(explored.size), None
    if shares is None:
        share = explored.sum() / max(below.sum(), 1)
        return np.where(explored, 1.0 / share, 1.0), float(share)
    own = shares[explored]
    bad = np.flatnonzero(~((own > 0) & (own <= 1)))
    if bad.size:
        row = int(np.flatnonzero(explored)[bad[0]])
        raise ValueError(
            f"{source}: explored lead at row {row} has exploration share {own[bad[0]]!r}; each explored "
            "lead's share must be in (0, 1]"
        )
    weights = np.ones(explored.size)
    weights[explored] = 1.0 / own
    return weights, float(explored.sum() / weights[explored].sum())


def _history_events(events: pd.DataFrame, history: History) -> pd.DataFrame:
    """The events, validated against the history's leads (``simulate.table.validate_events``).

    An event of a lead ``load_history`` rejected is no error (it leaves with its lead: the
    recount only reads the events of judged leads); an event of a lead the history never
    had, or one before its lead was created, raises ``LeadTableError``.
    """
    known = history.leads[["lead_id", "created_at"]]
    rejected = history.rejects["lead_id"].dropna().drop_duplicates()
    rejected = rejected[~rejected.isin(known["lead_id"])].to_numpy()
    if rejected.size:
        nat = pd.Series(pd.NaT, index=range(rejected.size), dtype="datetime64[ns, UTC]")
        known = pd.concat([known, pd.DataFrame({"lead_id": rejected, "created_at": nat})], ignore_index=True)
    return validate_events(events, leads=known, name="events")


def _check_judged(history, judged, worked, young, y_all, target, horizon_days) -> None:
    """No judged lead, or judged leads of one outcome only, leave nothing to learn from."""
    within = "" if horizon_days is None else f" within {horizon_days:g} days"
    n = int(judged.sum())
    if n == 0:
        raise ValueError(
            f"{history.source}: no lead can be judged yet: {int(worked.sum()):,} of "
            f"{len(worked):,} leads were worked and {int(young.sum()):,} of those are too young "
            f"to judge{within} as of {history.as_of:%Y-%m-%d}"
        )
    reached = int(y_all[judged].sum())
    if reached in (0, n):
        outcome = "reached" if reached else "did not reach"
        raise ValueError(
            f"{history.source}: all {n:,} judged leads {outcome} the target {target!r}{within}: "
            "labels of one outcome only leave nothing to fit (check the won/customer_at "
            f"columns ({history.column_label('won')!r}, {history.column_label('customer_at')!r} in the "
            "export), the horizon and the as-of date)"
        )


def explored_leads(leads: pd.DataFrame, exploration) -> np.ndarray:
    """Which leads are the exploration sample (``make_labels(exploration=...)``)."""
    worked, is_mql, _, _ = _clock_start(leads)
    return _explored(exploration, leads, worked, is_mql)


def _flags(column: pd.Series, name: str) -> np.ndarray:
    """A true/false column as booleans (blank: false); text as a CRM export writes it
    (true/false, yes/no, 1/0), anything else an error naming the row."""
    if pd.api.types.is_bool_dtype(column):
        return column.fillna(False).to_numpy(dtype=bool)
    from calibrate.reading import _BAD, _bool

    values = [_bool(v) for v in column.astype(object).where(column.notna(), None)]
    bad = [i for i, v in enumerate(values) if v is _BAD]
    if bad:
        raise ValueError(f"exploration column {name!r}, row {bad[0]}: {column.iloc[bad[0]]!r} is not true or false")
    return np.array([bool(v) for v in values], dtype=bool)


def _explored(exploration, leads, worked, is_mql) -> np.ndarray:
    if exploration is None:
        return np.zeros(len(leads), dtype=bool)
    if isinstance(exploration, str):
        if exploration == "auto":
            return worked & ~is_mql if is_mql.any() else np.zeros(len(leads), dtype=bool)
        if exploration not in leads.columns:
            raise KeyError(f"exploration column {exploration!r} is not in the lead table")
        mask = _flags(leads[exploration], exploration)
    else:
        mask = np.asarray(exploration, dtype=bool)
        if mask.shape != (len(leads),):
            raise ValueError(f"exploration mask must have one entry per lead ({len(leads)}), got {mask.shape}")
    return mask & worked


def _warn_selection(leads, worked, is_mql, explored, judged, share, old_enough, source) -> None:
    """Warn when more than 1% of the leads old enough to judge were never worked."""
    n = len(leads)
    never = int((~worked).sum())
    unworked_old = int((~worked & old_enough).sum())
    if unworked_old <= 0.01 * max(int(old_enough.sum()), 1) or not is_mql.any():
        return
    n_worked = int(worked.sum())
    below = int((~is_mql).sum())
    score = ""
    if "score" in leads.columns and leads["score"].notna().any():
        s = leads["score"].to_numpy(dtype=float)
        score = (
            f" (median old score {np.nanmedian(s[worked]):.0f} for the worked leads, "
            f"{np.nanmedian(s[~worked]):.0f} for the others)"
        )
    n_explored = int((explored & judged).sum())
    if n_explored == 0:
        warnings.warn(
            f"{source}: outcomes exist for {n_worked:,} of {n:,} leads ({n_worked / n:.1%}), "
            f"the ones sales worked; {never:,} leads were never worked{score}. The fit sees "
            "only leads above the old threshold and cannot learn what happens below it: "
            "supply an exploration sample (a random "
            "share of below-threshold leads worked anyway) through make_labels(exploration=...)",
            SelectionBiasWarning,
            stacklevel=3,
        )
    elif n_explored < 100:
        warnings.warn(
            f"{source}: only {n_explored} explored leads stand for {below:,} below-threshold leads "
            f"(share {share:.2%}, weight {1 / share:,.0f} each): the correction will be noisy",
            SelectionBiasWarning,
            stacklevel=3,
        )


def _features(leads, features, allow, y_all, worked, judged, history, design=frozenset()) -> list[str]:
    """The feature columns (``make_labels(features=...)``); ``design`` names the columns of
    the exploration design, never features by default."""
    allow = set(allow)
    if features is None:
        candidates = [c for c in FEATURE_DEFAULTS if c in leads.columns]
        candidates += [c for c in history.extra_columns if c in leads.columns and c not in design]
        candidates += [c for c in allow if c not in candidates]
        report = leakage_report(leads, candidates, y=y_all, worked=worked, judged=judged)
        refused = set(report["column"]) - allow
        out = []
        for c in candidates:
            s = leads.loc[judged, c]
            if c in refused or s.isna().all() or s.nunique(dropna=False) < 2:
                continue
            out.append(c)
        if not out:
            raise ValueError(f"{history.source}: no usable feature columns (all empty, constant or refused)")
        return out
    missing = [c for c in features if c not in leads.columns]
    if missing:
        raise KeyError(f"{history.source}: feature column {missing[0]!r} is not in the lead table")
    report = leakage_report(leads, [c for c in features if c not in allow], y=y_all, worked=worked, judged=judged)
    if len(report):
        row = report.iloc[0]
        raise LeakageError(
            f"{history.source}: refusing feature {row['column']!r}: {row['reason']}. "
            f"Pass allow=[{row['column']!r}] to use it anyway (to measure the leak)."
        )
    return list(features)
