"""The shape of a history: which decision it can inform.

- A **lead history** holds every lead, those sales worked and those it never saw: points
  can be fitted and any threshold chosen.
- An **MQL list** holds only the leads the old rules passed to sales (every row has an MQL
  date, a first touch or a later stage): points can be re-fitted among them and a *higher*
  threshold chosen (a subset of today's MQLs), never a lower one, because the leads below
  the old threshold are not in it. ``threshold_floor`` is the lowest new score among them.
- An **opportunity list** holds only leads that already had a deal (every row has an
  opportunity, a deal stage or a close): it is past the MQL decision, so no threshold can
  be learned from it; ``check_decision`` refuses it with that reason.

The shares are ``OPPORTUNITY_SHARE`` and ``UNWORKED_SHARE``: an MQL list may hold a few
rows without any sales date (a blank in the export), a lead history more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SHAPES", "HistoryShape", "check_decision", "history_shape", "threshold_floor"]

SHAPES = ("lead_history", "mql_list", "opportunity_list")
OPPORTUNITY_SHARE = 0.95
"""At least this share of rows with a deal (opportunity, stage or close) makes an opportunity list."""
UNWORKED_SHARE = 0.02
"""Fewer than this share of rows never passed to sales makes an MQL list."""

_SALES = ("mql_at", "returned_at", "first_touch_at", "sal_at", "sql_at", "opportunity_at", "customer_at")
_DEAL = ("opportunity_at", "deal_stage", "closed_at", "customer_at")


class ShapeError(ValueError):
    """A history whose shape cannot answer the question asked (an opportunity list)."""


@dataclass(frozen=True, slots=True)
class HistoryShape:
    """``kind`` (one of ``SHAPES``), the ``reason`` with its numbers, and the counts."""

    kind: str
    reason: str
    rows: int
    worked: int
    with_deal: int

    @property
    def lower_threshold_allowed(self) -> bool:
        """Whether a threshold below today's can be chosen (only from a lead history)."""
        return self.kind == "lead_history"


def _filled(leads: pd.DataFrame, columns) -> np.ndarray:
    out = np.zeros(len(leads), dtype=bool)
    for c in columns:
        if c in leads.columns:
            out |= leads[c].notna().to_numpy()
    return out


def history_shape(leads: pd.DataFrame) -> HistoryShape:
    """Recognise a lead history, an MQL list or an opportunity list (see the module docstring).

    Examples
    --------
    >>> t = pd.to_datetime(["2026-01-05", "2026-01-06", None, None], utc=True)
    >>> history_shape(pd.DataFrame({"created_at": t[:1].repeat(4), "mql_at": t})).kind
    'lead_history'
    >>> history_shape(pd.DataFrame({"created_at": t[:1].repeat(2), "mql_at": t[:2]})).kind
    'mql_list'
    """
    n = len(leads)
    worked = int(_filled(leads, _SALES).sum())
    deal = int(_filled(leads, _DEAL).sum())
    if n and deal >= OPPORTUNITY_SHARE * n:
        kind = "opportunity_list"
        reason = (
            f"an opportunity list: {deal:,} of {n:,} rows ({deal / n:.0%}) already have a deal (an "
            "opportunity date, a deal stage or a close), so every row is past the MQL decision and no "
            "MQL threshold can be learned from it; export the leads (contacts) with their deals instead"
        )
    elif n and n - worked < UNWORKED_SHARE * n:
        kind = "mql_list"
        reason = (
            f"an MQL list: {worked:,} of {n:,} rows ({worked / n:.0%}) were passed to sales (an MQL "
            "date, a touch or a later stage) and the leads the old rules held back are not in it: "
            "the points can be re-fitted and a higher threshold chosen among today's MQLs, not a lower one"
        )
    else:
        kind = "lead_history"
        reason = (
            f"a lead history: {n - worked:,} of {n:,} rows ({(n - worked) / max(n, 1):.0%}) were never "
            "passed to sales, so thresholds below and above today's can be weighed"
        )
    return HistoryShape(kind=kind, reason=reason, rows=n, worked=worked, with_deal=deal)


def check_decision(shape: HistoryShape, source: str) -> None:
    """Refuse an opportunity list for a threshold decision, with the reason."""
    if shape.kind == "opportunity_list":
        raise ShapeError(f"{source}: this history is {shape.reason}")


def threshold_floor(shape: HistoryShape, scores: np.ndarray) -> float:
    """The lowest threshold a recommendation may choose, on the new points.

    ``-inf`` for a lead history; for an MQL list, the lowest new score among its rows (below
    it, a threshold would pass leads the list does not hold); an opportunity list raises.
    """
    check_decision(shape, "history")
    scores = np.asarray(scores, dtype=float)
    if shape.kind == "mql_list" and scores.size and np.isfinite(scores).any():
        return float(np.nanmin(scores))
    return -np.inf
