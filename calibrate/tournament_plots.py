"""The plots of a queue-policy tournament: the objective by threshold for every policy, and
response hours by score band per policy."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["plot_band_response", "plot_policy_objective", "plot_tournament"]


def plot_policy_objective(tournament, ax=None):
    """Wins (or revenue) a month against the threshold, one line per policy with the
    interval of its mean over the seeds; thresholds whose SLA a new year misses are drawn
    faint, and each policy's best feasible threshold is marked."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    obj = tournament.objective
    best = tournament.best
    for i, policy in enumerate(tournament.policies):
        rows = tournament.table[tournament.table["policy"] == policy.name].sort_values("threshold")
        x, y = rows["threshold"].to_numpy(float), rows[obj].to_numpy(float)
        color = f"C{i % 10}"
        ax.plot(x, y, color=color, alpha=0.3, lw=1)
        ok = rows["feasible"].to_numpy(bool)
        ax.plot(x, np.where(ok, y, np.nan), color=color, lw=2, label=policy.name)
        ax.fill_between(x, rows[f"{obj}_low"], rows[f"{obj}_high"], where=ok, color=color, alpha=0.15, lw=0)
        t = tournament.best_threshold(policy.name)
        if np.isfinite(t):
            ax.plot([t], rows.loc[rows["threshold"] == t, obj], "o", color=color, ms=6)
    ax.axvline(best["threshold"], color="0.4", ls=":", lw=1)
    unit = "wins a month" if obj == "wins_per_month" else f"revenue a month{tournament.currency}"
    ax.set_xlabel("MQL threshold (score points)")
    ax.set_ylabel(f"expected {unit}")
    ax.set_title(
        f"By policy: bold where {tournament.sla.target:.0%} within {tournament.sla.hours:g} {tournament.sla.clock} "
        f"hours holds ({tournament.sla_confidence:.0%} conf.)",
        fontsize=9,
    )
    ax.legend(fontsize=7, loc="best")
    return ax


def plot_band_response(tournament, threshold: float | None = None, ax=None):
    """Median calendar hours to the first touch by score band, one group of bars per band
    and one bar per policy, at one threshold (default: the best pair's)."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    table = tournament.band_table(threshold)
    bands = list(pd.unique(table["band"]))
    names = [p.name for p in tournament.policies]
    width = 0.8 / max(len(names), 1)
    x = np.arange(len(bands))
    for i, name in enumerate(names):
        rows = table[table["policy"] == name].set_index("band").reindex(bands)
        ax.bar(
            x + (i - (len(names) - 1) / 2) * width, rows["median_response_hours"], width, label=name, color=f"C{i % 10}"
        )
    ax.set_xticks(x, bands)
    ax.set_xlabel("score band of the MQLs")
    ax.set_ylabel("median response (calendar hours)")
    t = float(tournament.best["threshold"]) if threshold is None else float(threshold)
    ax.set_title(f"Response by score band at threshold {t:g}", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
    return ax


def plot_tournament(tournament, axes=None):
    """Both plots side by side (``axes``: two matplotlib axes; default a new figure)."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    plot_policy_objective(tournament, axes[0])
    plot_band_response(tournament, ax=axes[1])
    return axes
