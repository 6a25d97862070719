"""The report's figures, drawn from a config alone and returned as PNG bytes.

Each figure is drawn by ``calibrate.plotting`` where one exists (the frontier, the points)
on the data a saved config carries (``Recommendation.frontier``, ``rules``,
``model_checks``), so a report made from a JSON file matches one made in the session.
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")  # noqa: E402  (a report is written without a display)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from simulate.rules import ScoringRules  # noqa: E402


def png_base64(fig: Figure, dpi: int = 110) -> str:
    """The figure as a base64 PNG (for an ``<img src="data:image/png;base64,...">``)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def rules_table(rules: ScoringRules) -> pd.DataFrame:
    """The points of ``rules`` as a table: ``axis, criterion, value, points``.

    Numeric bins read ``under 50``, ``50 to 200``, ``200 or more`` (and ``missing``).
    """
    rows = []
    for name, values in rules.fit.items():
        rows += [("fit", name, str(v), int(p)) for v, p in values.items()]
    for axis, table in (("fit", rules.fit_numeric), ("engagement", rules.engagement)):
        for name, bins in table.items():
            for label, p in zip(_bin_labels(bins.edges), bins.points, strict=True):
                rows.append((axis, name, label, int(p)))
            if bins.missing:
                rows.append((axis, name, "missing", int(bins.missing)))
    return pd.DataFrame(rows, columns=["axis", "criterion", "value", "points"])


def _bin_labels(edges) -> list[str]:
    e = [f"{x:,.6g}" for x in edges]
    if not e:
        return ["any"]
    return [f"under {e[0]}", *(f"{a} to {b}" for a, b in zip(e[:-1], e[1:], strict=True)), f"{e[-1]} or more"]


def frontier_png(rec) -> str | None:
    """The frontier with the current and recommended thresholds marked (or ``None``)."""
    if rec.tradeoffs is None and rec.frontier is None:
        return None
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    rec.plot_frontier(ax=ax)
    return png_base64(fig)


def points_png(rec, max_rows: int = 30) -> str:
    """The points per criterion (at most ``max_rows`` rows, grouped by criterion)."""
    from calibrate.plotting import plot_points

    table = rules_table(rec.rules)
    shown = min(max_rows, int((table["points"] != 0).sum()))
    fig, ax = plt.subplots(figsize=(5.2, 0.8 + 0.17 * max(shown, 4)))
    plot_points(table, ax=ax, max_rows=max_rows)
    return png_base64(fig)


def calibration_png(checks: dict | None) -> str | None:
    """Predicted against observed chance to win per bin, with the observed 95% interval."""
    if not checks or not checks.get("reliability"):
        return None
    r = np.array(checks["reliability"], dtype=float)
    fig, ax = plt.subplots(figsize=(3.4, 3.0))
    ax.errorbar(r[:, 0], r[:, 1], yerr=[r[:, 1] - r[:, 2], r[:, 3] - r[:, 1]], fmt="o", ms=3, label="observed")
    top = float(np.nanmax(r[:, :4])) * 1.05
    ax.plot([0, top], [0, top], color="grey", linestyle="--", linewidth=1, label="perfect")
    ax.set_xlabel("predicted chance to win (share)")
    ax.set_ylabel("observed win rate (share)")
    ax.set_title("Calibration (cross-fitted)", fontsize="medium")
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return png_base64(fig)
