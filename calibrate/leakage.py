"""The leakage guard: columns that are only known after sales worked the lead, by name and by evidence.

A feature must be known at the MQL decision. ``leakage_report`` refuses, with the reason:

- **sales-side** columns of the lead table (stage dates, rep, deal, the outcome itself) and
  every **time** column;
- extra columns whose **name** says they are written by sales (tags, status, stage, owner,
  a rating or temperature, last activity, deal data, ...; ``NAME_RULES``);
- by **evidence**, whatever their name, and whether or not every row was worked:
  a column **filled after work** (for most worked leads, almost no other); a column
  **filled for winners** far more often than for the others (``FILLED_GAP``: deal-table
  columns joined onto an MQL list are filled for 100% of the wins and a few % of the
  others); a column whose **value separates** winners almost perfectly (a rank AUC of
  at least ``SEPARATING_AUC`` on the filled rows, cross-fitted for categories, and
  significantly above ``SEPARATING_AUC - 0.05``); a category value that **settles the outcome**.

Every refusal gives its numbers. ``make_labels(allow=[...])`` overrules it by name, to
measure the leak or for a column the user knows was fixed before sales touched the lead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from simulate.table import LEAD_SCHEMA

__all__ = ["FILLED_GAP", "NAME_RULES", "SALES_SIDE", "SEPARATING_AUC", "LeakageError", "leakage_report"]

FILLED_GAP = 0.5
"""A column filled for this much larger a share of winners than of the others (and for at
most a quarter as many of the others, with a two-proportion z of 4 or more) is refused."""
SEPARATING_AUC = 0.95
"""A column whose values rank winners above the others (or below) with this AUC is refused."""
MIN_CLASS = 10
"""The evidence rules judge a column only with at least this many winners and others."""

SALES_SIDE = {
    "returned_at": "is set when a recycled lead comes back to sales",
    "sal_at": "is set when sales accepts the lead",
    "sql_at": "is set when sales qualifies the lead",
    "opportunity_at": "is set when sales opens an opportunity",
    "customer_at": "is set when the deal is won (it is the outcome)",
    "first_touch_at": "is set when a rep first contacts the lead",
    "rep_id": "is set when a rep is assigned the lead",
    "sla_met": "is known only once a rep has touched the lead",
    "recycled_reason": "is written by sales when it returns the lead",
    "deal_stage": "is written by sales as the deal moves",
    "amount": "exists only once there is a deal",
    "closed_at": "is set when the deal closes (it is the outcome)",
    "won": "is the outcome itself",
}

NAME_RULES = (
    (r"\btags?\b", "tags are written by sales reps while they work the lead"),
    (r"\b(stage|status|disposition)\b", "a stage or status changes as sales works the lead"),
    (r"\b(owner|assigned|rep|sales ?person|agent)\b", "the owner is set when sales takes the lead"),
    (
        r"\b(quality|rating|rated|grade|profile|temperature|temp|heat|hotness|priority|qualified|qualification|bant)\b",
        "a rating of the lead is a rep's judgement, made after talking to it",
    ),
    (r"\blast (notable )?activity\b", "the latest activity at export time includes sales' own touches (calls, SMS)"),
    (r"\b(converted|conversion|won|lost|closed?|outcome|reason)\b", "it records the outcome of sales' work"),
    (
        r"\b(opportunit\w*|deals?|revenue|quote|proposal)\b|^amount\b|\bamount$",
        "deal data exists only once sales opened a deal",
    ),
    (
        r"\b(contacted|calls? (made|logged|attempts?)|call (outcome|result|count|notes?|status)|"
        r"meetings? (held|booked)|sms sent|emails? sent by)\b",
        "it records what sales did with the lead",
    ),
    (
        r"\b(index|score)\b",
        "a score computed elsewhere (by a vendor or an old model) may include sales' judgement or "
        "later activity; allow it only if it was fixed before sales touched the lead",
    ),
)


class LeakageError(ValueError):
    """A feature that is only filled after sales worked the lead was asked for."""


def leakage_report(
    leads: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    y: np.ndarray | None = None,
    worked: np.ndarray | None = None,
    judged: np.ndarray | None = None,
) -> pd.DataFrame:
    """Columns that are only filled after sales worked the lead, with the reason.

    Parameters
    ----------
    leads : the lead table (with extra columns).
    columns : the columns to screen (default all).
    y : outcomes of the rows (read where ``judged``), for the evidence rules.
    worked : which rows sales worked, to find columns filled only for those.
    judged : which rows have an outcome in ``y``; default all.

    Returns
    -------
    DataFrame with ``column``, ``rule`` (``"sales-side"``, ``"time"``, ``"name"``,
    ``"filled after work"``, ``"filled for winners"``, ``"separates winners"``,
    ``"settles the outcome"``) and ``reason``.
    """
    documented = {c.name: c for c in LEAD_SCHEMA}
    if y is not None:
        y = np.asarray(y, dtype=bool)
        judged = np.ones(y.size, dtype=bool) if judged is None else np.asarray(judged, dtype=bool)
    rows = []
    for column in leads.columns if columns is None else columns:
        if column not in leads.columns:
            raise KeyError(f"leakage_report: column {column!r} is not in the lead table")
        s = leads[column]
        if column in SALES_SIDE:
            rows.append((column, "sales-side", f"{column!r} {SALES_SIDE[column]}, so it leaks the outcome"))
            continue
        if column in documented and documented[column].kind == "time" or isinstance(s.dtype, pd.DatetimeTZDtype):
            rows.append((column, "time", f"{column!r} is a moment, not a feature; later moments leak the outcome"))
            continue
        if column in documented:
            continue  # the documented fit and behaviour columns are known before sales
        text = re.sub(r"[_\-.]+", " ", str(column)).lower()
        hit = next((why for pattern, why in NAME_RULES if re.search(pattern, text)), None)
        if hit:
            rows.append((column, "name", f"{column!r}: {hit}"))
            continue
        found = _filled_after_work(s, column, worked)
        if found is None and y is not None:
            found = _evidence(s[judged].reset_index(drop=True), column, y[judged])
        if found is not None:
            rows.append(found)
    return pd.DataFrame(rows, columns=["column", "rule", "reason"])


def _filled_after_work(s: pd.Series, column: str, worked: np.ndarray | None) -> tuple | None:
    """Filled for most worked leads and almost no other."""
    if worked is None:
        return None
    worked = np.asarray(worked, dtype=bool)
    if not (worked.any() and (~worked).any()):
        return None
    filled = s.notna().to_numpy()
    a, b = filled[worked].mean(), filled[~worked].mean()
    if a >= 0.5 and b <= 0.05:
        why = (
            f"{column!r} is filled for {a:.0%} of the leads sales worked and {b:.1%} of the others: "
            "it is written while sales works the lead"
        )
        return (column, "filled after work", why)
    return None


def _evidence(s: pd.Series, column: str, y: np.ndarray) -> tuple | None:
    """Filled far more often for winners, values that separate them, or a settling value."""
    n1, n0 = int(y.sum()), int((~y).sum())
    if min(n1, n0) < MIN_CLASS:
        return None
    filled = s.notna().to_numpy()
    a, b = filled[y].mean(), filled[~y].mean()
    pooled = filled.mean()
    z = (a - b) / np.sqrt(max(pooled * (1 - pooled), 1e-12) * (1 / n1 + 1 / n0))
    if a - b >= FILLED_GAP and b <= a / 4 and z >= 4:
        why = (
            f"{column!r} is filled for {a:.0%} of the {n1:,} judged leads that won and {b:.1%} of "
            f"the {n0:,} others (z = {z:.1f}): a column filled once there is a deal leaks the outcome"
        )
        return (column, "filled for winners", why)
    auc, se, m1, m0 = _separation(s, y)
    if auc is not None and max(auc, 1 - auc) >= SEPARATING_AUC and max(auc, 1 - auc) - 3 * se >= SEPARATING_AUC - 0.05:
        how = "above" if auc >= 0.5 else "below"
        why = (
            f"{column!r} ranks the {m1:,} filled leads that won {how} the {m0:,} others with AUC "
            f"{max(auc, 1 - auc):.3f} (standard error {se:.3f}): a value that all but settles the outcome "
            "is written after it"
        )
        return (column, "separates winners", why)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        why = _settling_value(s, y)
        if why:
            return (column, "settles the outcome", f"{column!r}: {why}")
    return None


def _separation(s: pd.Series, y: np.ndarray) -> tuple[float | None, float, int, int]:
    """Rank AUC of the column's filled values for the winners (categories: each row's
    value's win rate in the other half of the rows), its Hanley-McNeil standard error, and
    the numbers of filled winners and others."""
    filled = s.notna().to_numpy()
    yf = y[filled]
    m1, m0 = int(yf.sum()), int((~yf).sum())
    if min(m1, m0) < MIN_CLASS:
        return None, 0.0, m1, m0
    values = s[filled]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        x = values.to_numpy(dtype=float)
    else:  # cross-fitted target encoding: a high-cardinality id cannot separate by itself
        text = values.astype(str).to_numpy(dtype=object)
        half = np.arange(text.size) % 2 == 0
        x = np.empty(text.size)
        base = yf.mean()
        for part in (half, ~half):
            rate = pd.Series(yf[~part]).groupby(text[~part]).mean()
            x[part] = pd.Series(text[part]).map(rate).fillna(base).to_numpy(dtype=float)
    ranks = rankdata(x)
    auc = (ranks[yf].sum() - m1 * (m1 + 1) / 2) / (m1 * m0)
    a = max(auc, 1 - auc)  # the standard error is symmetric in the direction
    q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
    se = np.sqrt(max(a * (1 - a) + (m1 - 1) * (q1 - a**2) + (m0 - 1) * (q2 - a**2), 0.0) / (m1 * m0))
    return float(auc), float(se), m1, m0


def _settling_value(s: pd.Series, y: np.ndarray) -> str | None:
    """A value held by many leads that (almost) all won: usually written after the outcome."""
    base = y.mean() if y.size else 0.0
    if not 0 < base < 0.6:
        return None
    values = s.astype("object").to_numpy()
    keep = ~pd.isna(values)
    table = pd.crosstab(values[keep], y[keep])
    if True not in table.columns:
        return None
    n = table.sum(axis=1)
    rate = table[True] / n
    big = (n >= max(30, 0.01 * y.size)) & (rate >= 0.95)
    if not big.any():
        return None
    value = rate[big].sort_values(ascending=False).index[0]
    return (
        f"value {value!r} ({int(n[value]):,} leads) won {rate[value]:.1%} of the time against "
        "a base rate "
        f"of {base:.1%}; a value that settles the outcome is written after it"
    )
