"""A simulated history as the CRM knew it at an earlier moment (for monitoring backtests).

``known_at(result, at)`` keeps the leads created before ``at`` and the events before it;
every lifecycle time after ``at`` is blank, and so is what it brings (the rep and SLA of a
touch not yet made, the deal and amount of a deal not yet closed); the behaviour counts
are recounted from the events kept. The result is a ``History`` whose ``as_of`` is ``at``.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from calibrate.history import History
from simulate.table import BEHAVIOUR_COLUMNS, TIME_COLUMNS

__all__ = ["known_at"]

_FOLLOWS = {
    "first_touch_at": ("rep_id", "sla_met"),
    "closed_at": ("won", "amount", "deal_stage"),
    "returned_at": ("recycled_reason",),
}


def known_at(result, at) -> History:
    """The history of ``result`` (``simulate.run``) as known at ``at`` (module docstring)."""
    at = pd.Timestamp(at)
    at = at.tz_localize("UTC") if at.tzinfo is None else at.tz_convert("UTC")
    leads = result.leads[result.leads["created_at"] < at].copy()
    events = result.events[result.events["at"] < at].reset_index(drop=True)
    for column in TIME_COLUMNS:
        if column in leads and column != "created_at":
            later = (leads[column] >= at).fillna(False).to_numpy(bool)
            leads.loc[later, column] = pd.NaT
            for follower in _FOLLOWS.get(column, ()):
                if follower in leads:
                    leads.loc[later, follower] = None
    if "opportunity_at" in leads and "deal_stage" in leads:
        leads.loc[leads["opportunity_at"].isna().to_numpy(), "deal_stage"] = None
    pos = pd.Series(np.arange(len(leads)), index=leads["lead_id"].to_numpy())
    row = pos.reindex(events["lead_id"].to_numpy()).to_numpy()
    keep = ~np.isnan(row)
    events = events[keep].reset_index(drop=True)
    row = row[keep].astype(np.int64)
    kinds = events["kind"].astype(str).to_numpy()
    for column in BEHAVIOUR_COLUMNS:
        sel = kinds == column[:-1]
        leads[column] = np.bincount(row[sel], minlength=len(leads)).astype(np.int64)
    return dataclasses.replace(
        History.from_run(result), leads=leads.reset_index(drop=True), events=events, as_of=at, n_input_rows=len(leads)
    )
