"""The history's leads as the sample a fitted world draws new leads from.

``lead_sample`` turns a history into a ``simulate.resample.LeadSample``: each lead's
attributes (blanks stay blank), its behaviour events as minutes after its creation (or, in
an export without events, its counts placed at its MQL moment), when it became an MQL and
came back from nurture, its chance to win if touched at once and of bad contact data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from calibrate.point_in_time import _ns
from simulate.funnel import NURTURE_REASONS
from simulate.resample import LeadSample
from simulate.table import BEHAVIOUR_COLUMNS, CATEGORICAL_ATTRIBUTES, EVENT_KINDS, LEAD_TYPES

__all__ = ["lead_sample", "minutes_between"]


def minutes_between(later, start: pd.Series) -> np.ndarray:
    """Minutes from ``start`` to ``later`` per lead (nan where either is missing or
    ``later`` is ``None``)."""
    if later is None:
        return np.full(len(start), np.nan)
    return ((later - start).dt.total_seconds() / 60.0).to_numpy(dtype=float, na_value=np.nan)


def lead_sample(history, leads, p0, bad_share, is_mql, exponents, seed) -> LeadSample:
    """The sample of ``history``'s leads with chances ``p0`` and bad-data shares."""
    categories, attributes = {}, {}
    codes_source, names = pd.factorize(leads["source"].astype("object").fillna("(blank)"), sort=True)
    categories["source"] = tuple(str(x) for x in names)
    categories["lead_type"] = LEAD_TYPES
    lead_type = (leads["lead_type"].astype("object") == "existing_customer").to_numpy().astype(np.int8)
    for name in CATEGORICAL_ATTRIBUTES:
        if name in leads:
            codes, values = pd.factorize(leads[name].astype("object"), sort=True, use_na_sentinel=True)
            categories[name] = tuple(str(x) for x in values)
            attributes[name] = codes.astype(np.int16)
        else:
            categories[name] = ()
            attributes[name] = np.full(len(leads), -1, dtype=np.int16)
    size = (
        pd.to_numeric(leads["company_size"], errors="coerce").to_numpy(dtype=float)
        if "company_size" in leads
        else np.full(len(leads), np.nan)
    )
    created = leads["created_at"]
    mql_after = minutes_between(leads.get("mql_at"), created)
    offsets, after, kind = _event_streams(history, leads, mql_after)
    return LeadSample(
        categories=categories,
        source=codes_source.astype(np.int64),
        lead_type=lead_type,
        attributes=attributes,
        company_size=size,
        p_win=p0,
        bad_data_share=bad_share,
        event_offsets=offsets,
        event_after_min=after,
        event_kind=kind,
        mql_after_min=np.where(is_mql, mql_after, np.nan),
        returned_after_min=_comebacks(leads, created, mql_after, is_mql, history.as_of, seed),
        stage_exponents=exponents,
        pool=_pool(leads, mql_after, history.as_of),
    )


def _pool(leads, mql_after, as_of) -> np.ndarray | None:
    """The leads new leads are copied from: those old enough that nine in ten MQLs would
    have become MQLs by the as-of date (a younger lead's MQL may be still to come), when
    that leaves at least half of them; else all."""
    delay = mql_after[np.isfinite(mql_after)]
    if delay.size < 20:
        return None
    age = (pd.Timestamp(as_of) - leads["created_at"]).dt.total_seconds().to_numpy() / 60.0
    old = age >= np.quantile(delay, 0.9)
    return old if old.mean() >= 0.5 else None


def _comebacks(leads, created, mql_after, is_mql, as_of, seed) -> np.ndarray:
    """Minutes from creation to each lead's comeback from nurture, had it been recycled.

    Observed for the MQLs the history recycled to nurture (nan: they did not come back); for
    the other MQLs (worked on, never recycled, or too recent for a comeback to show) it is
    unknown, and borrowed from a random recycled MQL old enough (its comeback's delay after
    its MQL moment): a comeback is behaviour meeting the rule again, whatever sales did.
    """
    out = minutes_between(leads.get("returned_at"), created).copy()
    if "recycled_reason" not in leads or "returned_at" not in leads:
        return out
    recycled = leads["recycled_reason"].astype("object").isin(NURTURE_REASONS).to_numpy() | np.isfinite(out)
    gaps = (out - mql_after)[np.isfinite(out)]
    wait = np.quantile(gaps, 0.95) if gaps.size >= 20 else 180 * 1440.0
    age = (pd.Timestamp(as_of) - leads["created_at"]).dt.total_seconds().to_numpy() / 60.0 - mql_after
    known = recycled & is_mql & (age >= wait)
    donors = np.flatnonzero(known)
    takers = np.flatnonzero(is_mql & ~known)
    if donors.size == 0 or takers.size == 0:
        return out
    gap = out[donors] - mql_after[donors]
    rng = np.random.default_rng([seed, 7])
    out[takers] = mql_after[takers] + gap[rng.integers(0, donors.size, takers.size)]
    return out


def _kind_codes(kind: pd.Series) -> np.ndarray:
    """Codes into ``EVENT_KINDS`` (-1: another kind), cheaply through the categories."""
    if isinstance(kind.dtype, pd.CategoricalDtype):
        table = np.asarray([EVENT_KINDS.index(c) if c in EVENT_KINDS else -1 for c in kind.cat.categories])
        codes = kind.cat.codes.to_numpy()
        return np.where(codes >= 0, table[np.maximum(codes, 0)], -1)
    return pd.Categorical(kind.astype("object"), categories=list(EVENT_KINDS)).codes


def _event_streams(history, leads, mql_after) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each lead's events as minutes after its creation: the history's events, else its
    counts placed at its MQL moment (at its creation if never an MQL)."""
    n = len(leads)
    position = pd.Series(np.arange(n), index=leads["lead_id"].to_numpy())
    if history.events is not None and len(history.events):
        ev = history.events
        lead = position.reindex(ev["lead_id"].to_numpy()).to_numpy()
        keep = np.isfinite(lead)
        lead = lead[keep].astype(np.int64)
        at = (_ns(ev["at"])[keep] - _ns(leads["created_at"])[lead]) / 6e10
        kind = _kind_codes(ev["kind"])[keep]
    else:
        counts = np.column_stack(
            [
                pd.to_numeric(leads[c], errors="coerce").fillna(0).clip(lower=0).to_numpy(np.int64)
                if c in leads
                else np.zeros(n, np.int64)
                for c in BEHAVIOUR_COLUMNS
            ]
        )
        per = counts.sum(axis=1)
        lead = np.repeat(np.arange(n), per)
        kind = np.repeat(np.tile(np.arange(len(EVENT_KINDS)), n), counts.ravel())
        at = np.nan_to_num(mql_after, nan=1.0)[lead]
    ok = kind >= 0
    lead, at, kind = lead[ok], np.maximum(at[ok], 0.0), kind[ok].astype(np.int8)
    step = np.diff(lead)
    in_order = bool(np.all((step > 0) | ((step == 0) & (np.diff(at) >= 0))))
    order = np.arange(lead.size) if in_order else np.lexsort((at, lead))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(lead, minlength=n), out=offsets[1:])
    return offsets, at[order], kind[order]
