"""What a monitor compares a new month with: the training data's reference, kept in the config.

``monitor_reference`` is computed once, by ``recommend``, and stored in the config
(``Recommendation.monitor_reference``, plain JSON data), so that a month later
``calibrate.monitor`` needs only the config and the new export:

* ``features`` / ``score``: the distribution of every column the points read, of the lead
  source and of the score under the recommended rules, as bin edges (numeric: deciles of
  the training leads) or categories, with the share of training leads in each (and the
  share missing). Point in time: a lead's features are those it had at its decision moment
  (``decision_moments``): its MQL moment under the rules, else ``DECISION_DAYS`` after its
  creation; leads younger than that and not MQLs are left out, on both sides.
* ``model``: the ROC AUC on the judged training leads with its 95% interval (out of fold:
  each lead ranked by a fit that did not learn its outcome), and
  its calibration: the win rate of each score bin (what a score promises; out of fold too).
* ``volume``: MQLs per calendar month under the recommended rules on the training data
  (but its first month, a warm-up), campaign leads apart (the seasonality and the base
  level of the forecast), and the range of a month.
* ``capacity``: the team, SLA and funnel the recommendation was made for (as the
  scenario's plain data), and the spread of a month's SLA compliance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from calibrate.diagnostics import roc_auc
from calibrate.point_in_time import counts_at, rules_mql
from simulate.table import BEHAVIOUR_COLUMNS

__all__ = [
    "DECISION_DAYS",
    "auc_interval",
    "decision_moments",
    "distribution",
    "monitor_reference",
    "monitored_columns",
    "monitored_values",
    "monthly_mqls",
    "psi",
    "shares",
]

DECISION_DAYS = 14.0
"""A lead that is not an MQL is judged on what it had done this many days after creation."""

N_BINS = 10
SHARE_FLOOR = 1e-4
"""Shares are floored here in the PSI (an empty bin would make it infinite)."""


def distribution(values: pd.Series, *, n_bins: int = N_BINS) -> dict:
    """The reference distribution of one column: deciles (numeric) or categories, with shares.

    Categorical shares end with that of ``(other)`` (0 on the reference itself). Numeric
    bins are ``(-inf, e0), [e0, e1), ..., [e_last, inf)``. ``missing`` is the share of
    blanks, a bin of its own.
    """
    values = pd.Series(values).reset_index(drop=True)
    numeric = pd.to_numeric(values, errors="coerce")
    missing = float(values.isna().mean()) if len(values) else 0.0
    if numeric.notna().sum() == values.notna().sum() and numeric.notna().any():
        edges = np.unique(np.nanquantile(numeric.to_numpy(float), np.linspace(0, 1, n_bins + 1)[1:-1]))
        out = {"kind": "numeric", "edges": [float(e) for e in edges]}
    else:
        out = {"kind": "categorical", "categories": sorted(values.dropna().astype(str).unique().tolist())}
    out["shares"] = [float(s) for s in shares(values, out)[:-1]]
    out["missing"] = missing
    return out


def shares(values: pd.Series, reference: dict) -> np.ndarray:
    """Shares of ``values`` in the bins of ``reference`` (``distribution``), missing last.

    A category the reference never saw counts in an ``(other)`` bin just before missing.
    """
    values = pd.Series(values).reset_index(drop=True)
    n = max(len(values), 1)
    blank = values.isna().to_numpy()
    if reference["kind"] == "numeric":
        v = pd.to_numeric(values, errors="coerce").to_numpy(float)
        k = np.searchsorted(np.asarray(reference["edges"], float), v[~blank], side="right")
        counts = np.bincount(k, minlength=len(reference["edges"]) + 1).astype(float)
    else:
        cats = reference["categories"]
        codes = pd.Index(cats).get_indexer(values[~blank].astype(str))
        counts = np.bincount(np.where(codes < 0, len(cats), codes), minlength=len(cats) + 1).astype(float)
    return np.r_[counts, blank.sum()] / n


def psi(reference: dict, values: pd.Series) -> tuple[float, pd.DataFrame]:
    """Population stability of ``values`` against a reference distribution.

    ``sum_b (a_b - e_b) ln(a_b / e_b)`` over the reference's bins (and missing), shares
    floored at ``SHARE_FLOOR``; also the table ``bin, expected_share, actual_share,
    contribution``.
    """
    expected = np.r_[reference["shares"], reference["missing"]]
    actual = shares(values, reference)
    e, a = np.maximum(expected, SHARE_FLOOR), np.maximum(actual, SHARE_FLOOR)
    used = (expected > 0) | (actual > 0)
    contribution = np.where(used, (a - e) * np.log(a / e), 0.0)
    table = pd.DataFrame(
        {"bin": _bin_names(reference), "expected_share": expected, "actual_share": actual, "contribution": contribution}
    )
    return float(contribution.sum()), table[used].reset_index(drop=True)


def _bin_names(reference: dict) -> list[str]:
    if reference["kind"] == "categorical":
        return [*reference["categories"], "(other)", "(missing)"]
    edges = reference["edges"]
    if not edges:
        return ["all", "(missing)"]
    names = [f"<{edges[0]:g}"] + [f"{lo:g} to <{hi:g}" for lo, hi in zip(edges, edges[1:], strict=False)]
    return [*names, f">={edges[-1]:g}", "(missing)"]


def mql_moments(history, rules) -> pd.Series:
    """When each lead became an MQL under ``rules`` (missing where never): followed through
    the events as the CRM does, else the export's ``mql_at``, else the creation of the leads
    whose end totals meet the rules."""
    leads = history.leads.reset_index(drop=True)
    if history.events is not None:
        return rules_mql(rules, leads, history.events, history.as_of, moments=True)
    if "mql_at" in leads and leads["mql_at"].notna().any():
        return leads["mql_at"].reset_index(drop=True)
    return leads["created_at"].where(pd.Series(rules.is_mql(leads)), pd.NaT).reset_index(drop=True)


def decision_moments(history, rules) -> tuple[pd.DataFrame, pd.Series]:
    """Each lead's features at its decision moment, and that moment (see the module docstring).

    Returns the lead table's rows that can be judged (an MQL under ``rules``, or at least
    ``DECISION_DAYS`` old at ``history.as_of``) with their count columns as of the moment
    (from the events; without events the export's counts as they are), and the moments.
    """
    leads = history.leads.reset_index(drop=True)
    mql = mql_moments(history, rules)
    late = leads["created_at"] + pd.Timedelta(days=DECISION_DAYS)
    at = mql.where(mql.notna() & (mql < late), late)
    keep = (at <= history.as_of).to_numpy()
    X, at = leads[keep].reset_index(drop=True), at[keep].reset_index(drop=True)
    if history.events is not None:
        counts = [c for c in BEHAVIOUR_COLUMNS if c in X.columns]
        X[counts] = counts_at(X["lead_id"].to_numpy(), at, history.events, counts).to_numpy()
    return X, at


def monitored_columns(rules, leads: pd.DataFrame) -> list[str]:
    """The columns whose drift is watched: those the points read, and the lead source."""
    extra = [c for c in ("source", "lead_type") if c in leads.columns and c not in rules.columns]
    return [*rules.columns, *extra]


def monitored_values(X: pd.DataFrame, column: str) -> pd.Series:
    """The values whose drift is watched: the column itself, but for ``campaign`` whether a
    campaign brought the lead (campaign names change with every campaign)."""
    if column == "campaign":
        return X[column].notna().map({True: "a campaign", False: "none"})
    return X[column]


def monthly_mqls(history, rules, *, skip_first: bool = False) -> pd.DataFrame:
    """MQLs per calendar month (UTC) under ``rules``: ``month, mqls, campaign_mqls`` (the
    MQLs of leads a campaign brought, where the export says), only whole months.

    ``skip_first`` leaves out the history's first month: its MQLs miss those of the leads
    created before the history began (a warm-up, not a season)."""
    leads = history.leads.reset_index(drop=True)
    mql = mql_moments(history, rules)
    campaign = leads["campaign"].notna() if "campaign" in leads else pd.Series(False, index=leads.index)
    month = mql.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    frame = pd.DataFrame({"month": month, "campaign": campaign.to_numpy()})[mql.notna().to_numpy()]
    table = frame.groupby("month").agg(mqls=("campaign", "size"), campaign_mqls=("campaign", "sum"))
    first = leads["created_at"].min().tz_convert("UTC").tz_localize(None)
    last = pd.Timestamp(history.as_of).tz_convert("UTC").tz_localize(None)
    end = (last + pd.Timedelta(seconds=1)).to_period("M") - 1
    whole = pd.period_range(first.to_period("M") + int(first.day > 1), end)
    table = table.reindex(whole[int(skip_first) :], fill_value=0)
    return table.rename_axis("month").reset_index().astype({"mqls": int, "campaign_mqls": int})


def _in_month_share(history, rules) -> float:
    """Of the MQLs a campaign brought, the share in the month it began (the rest spill into
    the next); 1 without campaigns."""
    leads = history.leads.reset_index(drop=True)
    if "campaign" not in leads or leads["campaign"].isna().all():
        return 1.0
    mql = mql_moments(history, rules)
    tagged = leads["campaign"].notna().to_numpy() & mql.notna().to_numpy()
    if not tagged.any():
        return 1.0
    month = lambda t: t.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")  # noqa: E731
    name = leads.loc[tagged, "campaign"].astype(str).to_numpy()
    began = month(leads["created_at"][tagged]).groupby(name).min()
    return float(np.mean(month(mql[tagged]).to_numpy() == began.reindex(name).to_numpy()))


def _mql_days(history, rules) -> list[float]:
    """Days from a campaign's first lead to each MQL it brought, as 20 quantiles (empty
    without campaigns): how a campaign's MQLs spread over the weeks after it starts."""
    leads = history.leads.reset_index(drop=True)
    if "campaign" not in leads or leads["campaign"].isna().all():
        return []
    mql = mql_moments(history, rules)
    tagged = leads["campaign"].notna().to_numpy() & mql.notna().to_numpy()
    if not tagged.any():
        return []
    name = leads.loc[tagged, "campaign"].astype(str).to_numpy()
    began = leads["created_at"][tagged].groupby(name).min().reindex(name).to_numpy()
    days = (mql[tagged].to_numpy() - began) / np.timedelta64(1, "D")
    return [float(q) for q in np.quantile(days.astype(float), np.linspace(0.025, 0.975, 20))]


def auc_interval(auc: float, wins: int, losses: int, confidence: float = 0.95) -> tuple[float, float]:
    """Hanley and McNeil's (1982) normal interval of a ROC AUC from ``wins`` and ``losses``."""
    if wins < 1 or losses < 1 or not np.isfinite(auc):
        return float("nan"), float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    var = (auc * (1 - auc) + (wins - 1) * (q1 - auc**2) + (losses - 1) * (q2 - auc**2)) / (wins * losses)
    z = float(norm.ppf(0.5 + confidence / 2))
    half = z * np.sqrt(max(var, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def score_calibration(score: np.ndarray, y: np.ndarray, edges: list[float]) -> dict:
    """Win rate of each score bin (``edges`` as in ``distribution``) on judged leads; ``y``
    the outcomes, or the chances a fit that did not learn them gives (an honest promise:
    the bins' own win rates are those the points were fitted to)."""
    k = np.searchsorted(np.asarray(edges, float), score, side="right")
    leads = np.bincount(k, minlength=len(edges) + 1)
    wins = np.bincount(k, weights=np.asarray(y, float), minlength=len(edges) + 1)
    overall = wins.sum() / max(leads.sum(), 1)
    rate = np.where(leads > 0, wins / np.maximum(leads, 1), overall)
    return {"edges": [float(e) for e in edges], "win_rate": rate.tolist(), "leads": leads.tolist()}


def monitor_reference(
    history, rules, capacity, *, horizon_days: float, sla_compliance_sd_year=None, out_of_fold=None
) -> dict:
    """The reference a monitor needs, as plain JSON data (see the module docstring).

    Parameters
    ----------
    history : the training ``History``.
    rules : the recommended ``ScoringRules``.
    capacity : the ``SalesCapacity`` the threshold was chosen for.
    horizon_days : the outcome window of the labels.
    sla_compliance_sd_year : the spread of a new year's SLA compliance, if known: a month's
        is ``sqrt(12)`` times it (a year averages twelve months).
    out_of_fold : each lead's chance to win from a fit that did not learn its outcome
        (``LeadInputs.p_win``, by ``lead_id``); the AUC is then theirs, what new leads can
        expect, instead of the points' own on the leads they were fitted to (optimistic).
    """
    from calibrate.labels import make_labels
    from simulate.spec import to_dict

    X, _ = decision_moments(history, rules)
    columns = monitored_columns(rules, X)
    score = rules.score(X)
    features = {c: distribution(monitored_values(X, c)) for c in columns}
    reference_score = distribution(pd.Series(score))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels = make_labels(history, horizon_days=horizon_days)
    judged = rules.score(labels.X)
    wins = int(labels.y.sum())
    ranked = judged if out_of_fold is None else out_of_fold.reindex(labels.lead_id).to_numpy(float)
    auc = roc_auc(labels.y, ranked) if 0 < wins < len(labels.y) else float("nan")
    low, high = auc_interval(auc, wins, len(labels.y) - wins)
    months = monthly_mqls(history, rules, skip_first=True)
    base = (months["mqls"] - months["campaign_mqls"]).to_numpy(float)
    sd_month = None if sla_compliance_sd_year is None else float(sla_compliance_sd_year) * np.sqrt(12)
    cap = {
        "team": to_dict(capacity.team),
        "sla": to_dict(capacity.sla),
        "funnel": to_dict(capacity.funnel),
        "contact_rate": float(np.mean(capacity.contact_rate)),
        "bad_data_share": float(np.mean(capacity.bad_data_share)),
    }
    return {
        "decision_days": DECISION_DAYS,
        "horizon_days": float(horizon_days),
        "leads": int(len(X)),
        "features": features,
        "score": reference_score,
        "model": {
            "auc": _finite(auc),
            "auc_low": _finite(low),
            "auc_high": _finite(high),
            "judged": int(len(labels.y)),
            "wins": wins,
            "calibration": score_calibration(
                judged, labels.y if out_of_fold is None else ranked, reference_score["edges"]
            ),
        },
        "volume": {
            "months": [str(m) for m in months["month"]],
            "mqls": months["mqls"].tolist(),
            "campaign_mqls": months["campaign_mqls"].tolist(),
            "campaign_leads": int(history.leads["campaign"].notna().sum()) if "campaign" in history.leads else 0,
            "campaign_in_month_share": _in_month_share(history, rules),
            "campaign_mql_days": _mql_days(history, rules),
            "mqls_per_month_low": float(np.min(base)) if base.size else None,
            "mqls_per_month_high": float(np.max(base)) if base.size else None,
        },
        "capacity": cap,
        "sla_compliance_sd_month": sd_month,
    }


def _finite(x) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None
