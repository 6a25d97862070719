"""Where each input of a recommendation comes from: fitted from the history, given by the
caller, or assumed (and from where).

An analyst must be able to tell which numbers were learned from the data and which were
assumed. ``recommendation_inputs`` lists, for every input ``recommend`` used, its value and
its basis: ``"fitted from N leads"``, ``"given"`` or ``"assumed (source)"``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.capacity import BAD_DATA_SHARE, CONTACT_RATE
from calibrate.deal_amounts import amount_basis

__all__ = ["INPUT_COLUMNS", "recommendation_inputs"]

INPUT_COLUMNS = ("input", "value", "basis")


def _fitted(n: int) -> str:
    return f"fitted from {n:,} leads"


def recommendation_inputs(history, inputs, capacity, *, capacity_given: bool, world, has_amounts: bool) -> pd.DataFrame:
    """One row per input of ``recommend``: ``input, value, basis``."""
    leads = history.leads
    worked = inputs.worked if inputs.worked is not None else np.ones(len(leads), dtype=bool)
    won = int(leads["customer_at"].notna().sum()) if "customer_at" in leads else 0
    rows = []
    first, last = leads["created_at"].min(), leads["created_at"].max()
    rows.append(
        (
            "history",
            f"MQL window {first:%Y-%m-%d} to {last:%Y-%m-%d}, outcomes to {pd.Timestamp(history.as_of):%Y-%m-%d}",
            _fitted(len(leads)),
        )
    )
    when = {"events": "counts at the MQL moment (events)", "decision": "counts at the MQL moment (snapshots)"}
    rows.append(
        (
            "points and chance to win",
            f"{won:,} wins; " + when.get(history.counts_at, "end-of-history counts (look-ahead)"),
            _fitted(int(worked.sum())),
        )
    )
    if has_amounts:
        n_deals = int((leads["customer_at"].notna() & leads["amount"].notna()).sum())
        rows.append(
            (
                "deal amounts",
                f"{amount_basis(leads)}; mean expected {np.mean(inputs.amount):,.0f}",
                f"fitted from {n_deals:,} deals",
            )
        )
    else:
        rows.append(("deal amounts", "none: revenue is not shown", "assumed (no amounts in the history)"))
    team = capacity.team
    team_basis = "given" if capacity_given or world is None else _part_basis(world, "team: reps")
    from simulate.routing import Policy

    rows.append(("team", f"{team.size} reps, {Policy.of(team).name}", team_basis))
    if not capacity_given and world is not None:
        rows.append(
            ("team's hours", _part_value(world, "team: working hours"), _part_basis(world, "team: working hours"))
        )
        rows.append(
            (
                "work per touch",
                f"{team.first_touch.median_minutes:g} min, {team.attempts} attempts",
                _part_basis(world, "team: work per touch and cadence"),
            )
        )
    sla = capacity.sla
    rows.append(
        ("SLA", f"{sla.hours:g} {sla.clock} h for {sla.target:.0%}", "given" if capacity_given else "given or default")
    )
    if capacity_given or world is None:
        rows.append(("response-time effect", "the capacity's funnel decays", "given"))
    else:
        rows.append(
            (
                "response-time effect",
                _part_value(world, "response-time effect"),
                world.response.source if world.response.fitted else f"assumed ({world.response.source})",
            )
        )
    if inputs.contact_rate is not None:
        touched = int(leads["first_touch_at"].notna().sum()) if "first_touch_at" in leads else 0
        rows.append(
            (
                "contact rate, bad data",
                f"per lead, mean {np.mean(inputs.contact_rate):.0%} / {np.mean(inputs.bad_data_share):.0%}",
                _fitted(touched),
            )
        )
    else:
        rows.append(
            (
                "contact rate, bad data",
                f"{np.mean(capacity.contact_rate):.0%} / {np.mean(capacity.bad_data_share):.0%}",
                "given" if capacity_given else f"assumed (defaults {CONTACT_RATE:.0%} / {BAD_DATA_SHARE:.0%})",
            )
        )
    rows.append(("SLA load", "the history's own MQL moments", _fitted(int(np.isfinite(inputs.handoff_min).sum()))))
    if world is not None:
        rows.append(("verification world", f"fitted world, {world.months} months", _fitted(world.n_leads)))
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


def _part_row(world, part: str) -> pd.Series | None:
    match = world.parts[world.parts["part"] == part]
    return None if match.empty else match.iloc[0]


def _part_value(world, part: str) -> str:
    row = _part_row(world, part)
    return "" if row is None else str(row["value"])


def _part_basis(world, part: str) -> str:
    row = _part_row(world, part)
    return "assumed (not in the world)" if row is None else str(row["basis"])
