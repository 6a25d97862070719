"""What changed between two configs: points per rule, the threshold, the expected figures.

``compare(a, b)`` takes two ``Recommendation`` objects or paths of saved configs and
returns one table: a row per rule (criterion and value) whose points differ, a row for the
threshold, and a row per expected figure, each with the value in ``a``, in ``b`` and the
change ``b - a``. ``plot_comparison`` draws it; ``python -m calibrate compare A.json B.json``
prints it.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from calibrate.recommendation import FIGURE_LABELS, Recommendation
from calibrate.report_figures import rules_table

COLUMNS = ["kind", "item", "a", "b", "change"]


def _load(config) -> Recommendation:
    if isinstance(config, Recommendation):
        return config
    if isinstance(config, str | os.PathLike):
        return Recommendation.from_json(config)
    raise TypeError(f"compare takes a Recommendation or the path of a saved config, got {type(config).__name__}")


def compare(config_a, config_b) -> pd.DataFrame:
    """The differences between two configs (``Recommendation`` or path), as a DataFrame.

    Returns
    -------
    pandas.DataFrame
        Columns ``kind`` (``"points"``, ``"threshold"`` or ``"expected"``), ``item``
        (``criterion: value`` of a rule, or the figure's name), ``a``, ``b`` and
        ``change`` (``b - a``). A rule only one config has counts as 0 points in the other;
        rules with the same points in both are left out; every expected figure is listed.
    """
    a, b = _load(config_a), _load(config_b)
    rows = []
    pa, pb = (_points(r) for r in (a, b))
    for item in sorted(set(pa) | set(pb)):
        x, y = pa.get(item, 0), pb.get(item, 0)
        if x != y:
            rows.append(("points", item, float(x), float(y), float(y - x)))
    rows.append(("threshold", "MQL threshold", a.threshold, b.threshold, b.threshold - a.threshold))
    for key, (label, _) in FIGURE_LABELS.items():
        x, y = _value(a, key), _value(b, key)
        if x is None and y is None:
            continue
        change = y - x if x is not None and y is not None else np.nan
        rows.append(("expected", label, np.nan if x is None else x, np.nan if y is None else y, change))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out.attrs["currency"] = (a.currency, b.currency)
    return out


def _points(rec: Recommendation) -> dict[str, int]:
    t = rules_table(rec.rules)
    return {f"{r.criterion}: {r.value}": int(r.points) for r in t.itertuples()}


def _value(rec: Recommendation, key: str) -> float | None:
    e = rec.expected.get(key)
    return None if e is None or e.value is None else float(e.value)


def plot_comparison(comparison: pd.DataFrame, *, ax: Axes | None = None, max_rows: int = 30) -> Axes:
    """The points that changed (bars of ``b - a``, at most ``max_rows``), titled with the
    threshold's change."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.8 + 0.2 * min(max_rows, max(len(comparison), 4))))
    pts = comparison[comparison["kind"] == "points"]
    total = len(pts)
    if total > max_rows:
        pts = pts.loc[pts["change"].abs().sort_values(ascending=False).index[:max_rows]].sort_index()
    y = np.arange(len(pts))[::-1]
    ax.barh(y, pts["change"], color=np.where(pts["change"] >= 0, "tab:blue", "tab:red"))
    ax.set_yticks(y, list(pts["item"]), fontsize="small")
    ax.axvline(0, color="grey", linewidth=1)
    ax.set_xlabel("change in points (B - A)")
    th = comparison[comparison["kind"] == "threshold"].iloc[0]
    title = f"Points changed from A to B; threshold {th['a']:g} -> {th['b']:g}"
    if total > len(pts):
        title += f"\n{len(pts)} of {total} changed rules shown (the smallest omitted)"
    ax.set_title(title, fontsize="medium")
    return ax


def comparison_text(comparison: pd.DataFrame) -> str:
    """The comparison as text that fits 80 columns."""
    lines = []
    for kind, part in comparison.groupby("kind", sort=False):
        lines.append(f"{kind}:")
        for r in part.itertuples():
            fmt = "{:,.4g}" if kind == "expected" else "{:,.0f}" if kind == "points" else "{:g}"
            a, b = ("n/a" if pd.isna(v) else fmt.format(v) for v in (r.a, r.b))
            change = "" if pd.isna(r.change) else f" ({r.change:+,.4g})"
            lines.append(f"  {r.item[:44]:44} {a:>10} -> {b:>10}{change}"[:80])
    return "\n".join(lines)
