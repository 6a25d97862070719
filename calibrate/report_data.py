"""What a saved config carries so that a report (and the explorer) needs nothing else.

``recommend`` fills these in; ``Recommendation.to_dict`` writes them and ``from_json`` reads
them back: the data quality (rows read and used, rejects by reason), the model's checks
(cross-fitted AUC and calibration), a compact trade-off table (the thresholds where the
figures change) and the verification (the paired uplift over the current rules).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

FRONTIER_COLUMNS = (
    "threshold",
    "mqls",
    "mqls_per_month",
    "sla_compliance",
    "utilisation",
    "median_response_hours",
    "p90_response_hours",
    "wins_per_month",
    "revenue_per_month",
    "revenue_per_month_low",
    "revenue_per_month_high",
    "revenue_lost_per_month",
    "reps_needed",
    "precision",
    "recall",
    "extrapolated_share",
)
MAX_FRONTIER_ROWS = 80


def data_quality(history) -> dict:
    """Rows read, rows used, and the lead rows left out counted by reason."""
    from calibrate.rejects import _kind

    rejects = history.lead_rejects
    kinds = rejects["column"].fillna("").astype(str) + ": " + rejects["reason"].map(_kind)
    first = rejects.drop_duplicates("row").index
    counts = kinds.loc[first].str.lstrip(": ").value_counts()
    return {
        "rows_read": int(history.n_input_rows),
        "rows_used": int(len(history.leads)),
        "rejects": {str(k): int(v) for k, v in counts.items()},
    }


def model_checks(inputs, leads: pd.DataFrame, n_bins: int = 10) -> dict:
    """AUC and calibration of the cross-fitted chance to win on the worked leads.

    Each lead's chance comes from a scorecard fitted without it (``prepare``'s cross-fit),
    so these are out-of-sample figures: what the points do on leads they did not see.
    """
    from calibrate.diagnostics import brier_score, expected_calibration_error, reliability_curve, roc_auc

    worked = inputs.worked if inputs.worked is not None else np.ones(len(leads), dtype=bool)
    y = leads["customer_at"].notna().to_numpy()[worked].astype(float)
    p = np.asarray(inputs.p_win, dtype=float)[worked]
    if y.min(initial=1) == y.max(initial=0):
        return {"leads": int(y.size), "note": "one outcome only: no AUC"}
    curve = reliability_curve(y, p, n_bins=n_bins)
    return {
        "leads": int(y.size),
        "wins": int(y.sum()),
        "method": "cross-fitted (each lead scored by points fitted without it)",
        "auc": float(roc_auc(y, p)),
        "brier": float(brier_score(y, p)),
        "calibration_error": float(expected_calibration_error(y, p, n_bins=n_bins)),
        "reliability": [
            [float(r.mean_predicted), float(r.observed), float(r.observed_low), float(r.observed_high), int(r.leads)]
            for r in curve.itertuples(index=False)
        ],
    }


def compact_frontier(table: pd.DataFrame, max_rows: int = MAX_FRONTIER_ROWS) -> dict:
    """The trade-off table's figure columns on at most ``max_rows`` thresholds, as JSON data.

    The thresholds where the team would be over twice its capacity (every figure flat: the
    SLA lost) are left out but for the highest of them; the rest thinned evenly, keeping the
    first and last.
    """
    cols = [c for c in FRONTIER_COLUMNS if c in table]
    t = table[cols]
    if "utilisation" in t:
        busy = np.flatnonzero(t["utilisation"].to_numpy(dtype=float) > 2.0)
        if busy.size:
            t = t.iloc[busy.max() :]
    if len(t) > max_rows:
        t = t.iloc[np.unique(np.linspace(0, len(t) - 1, max_rows).round().astype(int))]
    rows = [[None if not np.isfinite(v) else float(v) for v in row] for row in t.to_numpy(dtype=float)]
    return {"columns": cols, "rows": rows}


def frontier_frame(data: dict) -> pd.DataFrame:
    """The compact trade-off table back as a DataFrame (``compact_frontier``'s inverse)."""
    return pd.DataFrame(data["rows"], columns=data["columns"]).astype(float)


def verification_summary(verification: pd.DataFrame | None) -> dict | None:
    """The verification as JSON data: the paired uplift per figure, or the arm's means."""
    if verification is None or not len(verification):
        return None
    from calibrate.verification import arm_rows, paired_uplift

    if "arm" in verification and {"recommended", "current"} <= set(verification["arm"]):
        up = paired_uplift(verification)
        rows = [
            {k: (None if pd.isna(r[k]) else float(r[k])) for k in ("recommended", "current", "uplift", "low", "high")}
            | {"figure": str(r["figure"])}
            for _, r in up.iterrows()
        ]
        return {"seeds": int(up["seeds"].max()), "paired": True, "figures": rows}
    v = arm_rows(verification)
    num = v.select_dtypes("number").drop(columns=["seed"], errors="ignore")
    rows = [{"figure": str(k), "recommended": float(m)} for k, m in num.mean().items() if np.isfinite(m)]
    return {"seeds": int(len(v)), "paired": False, "figures": rows}
