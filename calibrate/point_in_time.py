"""Point in time: what was known about a lead when its MQL decision was made.

A CRM export's behaviour counters are today's totals: they include what a lead did after it
became an MQL, after sales called it, up to the day of the export. Points fitted on them
look better on the history than they will work on new leads, which are decided on the
counts they have at the moment they cross the threshold. With the behaviour events
(``lead_id, at, kind``) every count can be taken as of any moment:

* :func:`counts_at` gives each lead's counts up to one moment (the labels use it at each
  lead's clock start, the MQL moment);
* :func:`peak_scores` follows each lead's running score under fitted points event by event,
  as the CRM does, and gives its highest score (the lead is an MQL of threshold ``T`` iff
  that peak reaches ``T``), when it first reached it, and its counts then;
* :func:`rules_mql` says which leads given ``ScoringRules`` (the rules in force) make MQLs;
* :func:`read_events` reads an events table (CSV or DataFrame) for ``load_history``;
* :func:`look_ahead_backtest` measures, on a history without events, how much of the fit's
  discrimination comes from the end-of-history counters (see ``PointInTimeWarning``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulate.table import BEHAVIOUR_COLUMNS, EVENT_KINDS, LeadTableError, validate_events

__all__ = [
    "PointInTimeWarning",
    "ScorePath",
    "counts_at",
    "look_ahead_backtest",
    "peak_scores",
    "read_events",
    "rules_mql",
]

_KIND_OF = {f"{kind}s": kind for kind in EVENT_KINDS}


class PointInTimeWarning(UserWarning):
    """The behaviour counts are end-of-history totals: they include activity after the decision."""


def read_events(source: str | os.PathLike | pd.DataFrame, *, timezone: str = "UTC") -> pd.DataFrame:
    """An events table (``lead_id, at, kind``) from a CSV file or a DataFrame, checked.

    ``at`` may be text; times without an offset are read in ``timezone``. ``kind`` is one of
    ``simulate.table.EVENT_KINDS`` (``page_view``, ``demo_request``, ...). Raises
    ``LeadTableError`` naming the file, the column and the row of the first bad value.
    """
    name = "events" if isinstance(source, pd.DataFrame) else os.fspath(source)
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        try:
            frame = pd.read_csv(source, dtype={"kind": str}, keep_default_na=True)
        except FileNotFoundError:
            raise LeadTableError(f"{name}: file does not exist") from None
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise LeadTableError(f"{name}: not a readable CSV table ({exc})") from None
    missing = [c for c in ("lead_id", "at", "kind") if c not in frame.columns]
    if missing:
        raise LeadTableError(f"{name}: the events table lacks the column {missing[0]!r} (needs lead_id, at, kind)")
    if not isinstance(frame["at"].dtype, pd.DatetimeTZDtype):
        text = frame["at"]
        at = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = at.isna() & text.notna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise LeadTableError(f"{name}: column 'at', row {row}: {text.iloc[row]!r} is not a date or time")
        if at.dt.tz is None:
            at = at.dt.tz_localize(timezone, nonexistent="shift_forward", ambiguous="NaT")
        frame["at"] = at.dt.tz_convert("UTC")
    frame["kind"] = frame["kind"].astype("string").str.strip().astype("category")
    return validate_events(frame, name=name)


def _ns(times) -> np.ndarray:
    """UTC nanoseconds of timezone-aware times (missing: the smallest int64)."""
    return pd.DatetimeIndex(times).as_unit("ns").asi8


def _kinds(events: pd.DataFrame) -> np.ndarray:
    """The event kinds as text, cheaply (through the categories when there are)."""
    kind = events["kind"]
    if isinstance(kind.dtype, pd.CategoricalDtype):
        names = np.asarray(kind.cat.categories.astype(str), dtype=object)
        codes = kind.cat.codes.to_numpy()
        return np.where(codes >= 0, names[np.maximum(codes, 0)], "")
    return kind.astype(str).to_numpy()


def counts_at(lead_ids: np.ndarray, moments: pd.Series, events: pd.DataFrame, columns) -> pd.DataFrame:
    """Behaviour counts per lead up to (and including) its moment, one row per ``lead_ids``.

    ``columns`` are count column names (``page_views``, ...); a lead without events, or whose
    moment is missing, has 0 of each.
    """
    lead_ids = np.asarray(lead_ids)
    pos = pd.Series(np.arange(lead_ids.size), index=pd.Index(lead_ids))
    row = pos.reindex(events["lead_id"].to_numpy()).to_numpy()
    ok = ~np.isnan(row)
    row = row[ok].astype(np.int64)
    at = _ns(events["at"])[ok]
    kind = _kinds(events)[ok]
    until = _ns(pd.Series(moments))
    missing = until == np.iinfo(np.int64).min
    seen = (at <= until[row]) & ~missing[row]
    out = {}
    for column in columns:
        sel = seen & (kind == _KIND_OF[column])
        out[column] = np.bincount(row[sel], minlength=lead_ids.size).astype(np.int64)
    return pd.DataFrame(out)


def _paths(leads: pd.DataFrame, events: pd.DataFrame, until: np.ndarray, columns: list[str]):
    """Every lead's counts after each of its events up to ``until``, plus its creation state.

    Returns the row of the lead for each path step, the step's moment (ns) and the counts
    (one array per column), ordered by lead then time, with the creation state first.
    """
    n = len(leads)
    pos = pd.Series(np.arange(n), index=pd.Index(leads["lead_id"].to_numpy()))
    row = pos.reindex(events["lead_id"].to_numpy()).to_numpy()
    at = _ns(events["at"])
    kind = _kinds(events)
    keep = ~np.isnan(row)
    row = np.where(keep, row, 0).astype(np.int64)
    keep &= at <= until[row]
    keep &= np.isin(kind, [_KIND_OF[c] for c in columns])
    row, at, kind = row[keep], at[keep], kind[keep]
    created = _ns(leads["created_at"])
    # the creation state of every lead, then its events; sorted by lead, time, creation first
    step_row = np.concatenate([np.arange(n), row])
    step_at = np.concatenate([created, at])
    first = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(row.size, dtype=np.int8)])
    step_kind = np.concatenate([np.full(n, "", dtype=object), kind.astype(object)])
    order = np.lexsort((first, step_at, step_row))
    step_row, step_at, step_kind = step_row[order], step_at[order], step_kind[order]
    starts = np.flatnonzero(np.r_[True, step_row[1:] != step_row[:-1]])
    counts = {}
    for column in columns:
        hit = (step_kind == _KIND_OF[column]).astype(np.int64)
        total = np.cumsum(hit)
        before = total[starts] - hit[starts]  # the running total when the lead's path starts
        counts[column] = total - np.repeat(before, np.diff(np.r_[starts, step_row.size]))
    return step_row, step_at, counts, starts


@dataclass(frozen=True, slots=True, eq=False)
class ScorePath:
    """Every lead's score after each of its events (and at its creation), in lead and time order.

    ``row`` the lead (position in the lead table), ``at_ns`` the moment (UTC nanoseconds),
    ``points`` the score then; ``n`` the number of leads.
    """

    row: np.ndarray
    at_ns: np.ndarray
    points: np.ndarray
    n: int

    def first_reaching(self, level: float) -> pd.Series:
        """When each lead's score first reached ``level`` (its MQL moment under a threshold of
        ``level``, as the CRM decides it); missing for leads that never did."""
        hit = np.flatnonzero(self.points >= level)
        rows, first = np.unique(self.row[hit], return_index=True)  # steps are in time order
        out = np.full(self.n, np.iinfo(np.int64).min, dtype=np.int64)
        out[rows] = self.at_ns[hit[first]]
        return pd.Series(pd.to_datetime(np.where(out == np.iinfo(np.int64).min, np.nan, out), utc=True))


def peak_scores(
    scorer, features: list[str], leads: pd.DataFrame, events: pd.DataFrame, until: pd.Series
) -> tuple[np.ndarray, pd.Series, pd.DataFrame]:
    """Each lead's highest score under ``scorer`` while its events happen.

    ``scorer`` maps a frame of the ``features`` to points (``Scorecard.predict_points``, or a
    two-axis rule's engagement plus grade offset).

    The score is evaluated at the lead's creation and after each of its events up to its
    ``until`` moment (the fitted points have no decay), as a CRM evaluates its rules: the lead
    is an MQL of threshold ``T`` iff its peak reaches ``T``, whatever the sign of the points.

    Returns
    -------
    peak : (n,) the highest score.
    reached_at : (n,) when the lead first had that score.
    features : the scorecard's features as of ``reached_at`` (the counts then).
    path : the ``ScorePath`` (``None`` when the scorer reads no count column).
    """
    columns = [c for c in features if c in BEHAVIOUR_COLUMNS]
    base = leads[features].reset_index(drop=True)
    if not columns:
        points = np.asarray(scorer(base), dtype=float)
        return points, leads["created_at"].reset_index(drop=True), base, None
    until_ns = _ns(pd.Series(until))
    step_row, step_at, counts, starts = _paths(leads, events, until_ns, columns)
    X = base.iloc[step_row].reset_index(drop=True)
    for column in columns:
        X[column] = counts[column]
    points = np.asarray(scorer(X), dtype=float)
    peak = np.maximum.reduceat(points, starts)
    # the first step of each lead at its peak
    at_peak = points >= np.repeat(peak, np.diff(np.r_[starts, points.size]))
    step = np.flatnonzero(at_peak)
    first = step[np.r_[True, step_row[step][1:] != step_row[step][:-1]]]
    reached = pd.Series(pd.to_datetime(step_at[first], utc=True))
    path = ScorePath(row=step_row, at_ns=step_at, points=points, n=len(leads))
    return peak, reached, X.iloc[first].reset_index(drop=True), path


def rules_mql(rules, leads: pd.DataFrame, events: pd.DataFrame | None, as_of: pd.Timestamp, *, moments: bool = False):
    """Which leads ``rules`` make MQLs by ``as_of``, as the CRM evaluates them.

    Returns a boolean per lead, or with ``moments`` (events needed) the MQL moment of each
    lead (missing where never).

    With events, each lead's score is followed through its events with the rules' decay
    (``simulate.scoring.score_stream``, the simulator's own scoring); without, the rules are
    applied to the lead table's counts (``ScoringRules.is_mql``).
    """
    from simulate.scoring import score_stream

    if events is None:
        if moments:
            raise ValueError("the MQL moments of rules need the behaviour events")
        return np.asarray(rules.is_mql(leads), dtype=bool)
    fit = rules.fit_points(leads)
    created, offsets, at, kind, origin = event_arrays(leads, events)
    as_of_min = float((_ns(pd.Series([pd.Timestamp(as_of)]))[0] - origin) / 6e10)
    mql_min, _, _ = score_stream(rules, fit, created, offsets, at, kind, as_of_min)
    if not moments:
        return np.isfinite(mql_min)
    ns = np.where(np.isfinite(mql_min), origin + np.nan_to_num(mql_min) * 6e10, np.nan)
    return pd.Series(pd.to_datetime(ns, utc=True))


def event_arrays(leads: pd.DataFrame, events: pd.DataFrame):
    """The events as the simulator's scoring reads them: ``(created_min, offsets, at_min,
    kind, origin_ns)``, minutes since the first lead's creation, grouped by lead in table
    order and in time order within a lead (``simulate.scoring.score_stream``)."""
    n = len(leads)
    origin = _ns(leads["created_at"]).min()
    pos = pd.Series(np.arange(n), index=pd.Index(leads["lead_id"].to_numpy()))
    row = pos.reindex(events["lead_id"].to_numpy()).to_numpy()
    keep = ~np.isnan(row)
    row, at = row[keep].astype(np.int64), _ns(events["at"])[keep]
    kind = pd.Categorical(_kinds(events)[keep], categories=list(EVENT_KINDS)).codes.astype(np.int64)
    order = np.lexsort((at, row))
    row, at, kind = row[order], at[order], kind[order]
    offsets = np.searchsorted(row, np.arange(n + 1))
    return (_ns(leads["created_at"]) - origin) / 6e10, offsets, (at - origin) / 6e10, kind, origin


def scores_after(rules, leads: pd.DataFrame, events: pd.DataFrame, days: float) -> tuple[np.ndarray, np.ndarray]:
    """Each lead's score under ``rules`` ``days`` after its creation, through its events as
    the CRM scores them, and whether the rules had made it an MQL by then."""
    from simulate.exploration import scores_at_age

    created, offsets, at, kind, _ = event_arrays(leads, events)
    score, mql = scores_at_age(rules, rules.fit_points(leads), created, offsets, at, kind, days * 1440.0)
    return score, mql <= created + days * 1440.0


def look_ahead_backtest(labels, columns: list[str], *, random_state: int = 0) -> tuple[float, float] | None:
    """Out-of-time ROC AUC of a fit with and without the count ``columns`` (None if not possible).

    The older 70% of the judged leads train a ``Scorecard``, the newer 30% test it. With
    end-of-history counters, the gap between the two AUCs is an upper bound on what the
    counts add; part of it is activity after the decision, which new leads will not have.
    """
    from sklearn.metrics import roc_auc_score

    from calibrate.scorecard import Scorecard

    try:
        train, test = labels.split_by_time()
    except ValueError:
        return None
    if len(set(test.y.tolist())) < 2 or len(set(train.y.tolist())) < 2:
        return None
    aucs = []
    for drop in ([], columns):
        keep = [c for c in train.X.columns if c not in drop]
        if not keep:
            aucs.append(0.5)
            continue
        card = Scorecard(random_state=random_state).fit(train.X[keep], train.y, train.sample_weight)
        aucs.append(float(roc_auc_score(test.y, card.predict_proba(test.X[keep])[:, 1])))
    return aucs[0], aucs[1]
