"""How reachable each lead is, learned from the history's first touches.

The work one MQL costs depends on whether the rep reaches it: an unreachable lead uses up the
whole cadence of attempts, a lead with bad contact data one attempt. Better leads pick up more
often (in the simulator their chance to connect is a power of their chance to buy), so a
threshold that sends fewer, better MQLs also sends less work per MQL, and one that reaches
below the old threshold sends more. One contact rate for every lead gets the SLA of such
thresholds wrong.

:func:`estimate_reachability` fits, on the leads sales touched, two one-variable logistic
curves on the logit of each lead's chance to win: the share with bad contact data, and the
share reached among the others (``recycled_reason`` ``"bad_data"`` and ``"unreachable"``).
Every lead then gets its own contact rate and bad-data share, for the SLA model
(``SalesCapacity.contact_rate`` and ``bad_data_share`` take one value per lead).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

__all__ = ["MIN_TOUCHED", "estimate_reachability"]

MIN_TOUCHED = 200
"""Fewer touched leads with a recorded outcome than this, and the capacity's constants stay."""


def estimate_reachability(leads: pd.DataFrame, p_win: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per lead: the chance to reach it (among leads with good data) and of bad contact data.

    ``None`` when the history does not record it (no ``first_touch_at`` or
    ``recycled_reason``, or fewer than ``MIN_TOUCHED`` touched leads).
    """
    if "first_touch_at" not in leads or "recycled_reason" not in leads:
        return None
    touched = leads["first_touch_at"].notna().to_numpy()
    if touched.sum() < MIN_TOUCHED:
        return None
    reason = leads["recycled_reason"].astype("object").to_numpy()
    x = _logit(np.asarray(p_win, dtype=float))[:, None]
    bad = reason == "bad_data"
    unreachable = reason == "unreachable"
    good = touched & ~bad
    bad_share = _curve(x[touched], bad[touched], x)
    reached = _curve(x[good], ~unreachable[good], x)
    if bad_share is None or reached is None:
        return None
    return reached, bad_share


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _curve(x: np.ndarray, y: np.ndarray, at: np.ndarray) -> np.ndarray | None:
    """A one-variable logistic curve of ``y`` on ``x``, read at ``at`` (a constant when
    ``y`` is all one outcome: its share, with one pseudo-outcome of the other kind)."""
    if y.size == 0:
        return None
    if y.all() or not y.any():
        return np.full(at.shape[0], (y.sum() + 0.5) / (y.size + 1.0))
    model = LogisticRegression(C=1.0).fit(x, y)
    return model.predict_proba(at)[:, 1]
