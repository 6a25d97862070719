"""An interactive explorer of the threshold trade-off, for notebooks.

``explore(recommendation, inputs=...)`` shows the threshold frontier with the chosen point
and its figures (MQLs a month, SLA compliance, utilisation, response times, wins, revenue,
reps needed). Three sliders move the threshold, the number of reps and the SLA hours; a new
team or SLA recomputes the whole frontier with the analytic queue model
(``calibrate.sla.analytic_load``, through ``calibrate.tradeoffs.evaluate_tradeoffs``) on the same
scores, in about a second for a year of leads. Without ``inputs`` (the per-lead scores and
handoff times, ``calibrate.inputs.prepare``) only the threshold moves.

With ipywidgets installed and a running kernel, ``explore`` returns the widget; elsewhere
(a script, a test, a notebook viewer) a static matplotlib figure of the same view. The
widget also carries a picture of its current view, which renderers without widgets (a
repository's notebook preview, nbconvert) show instead.

The pieces work without a browser: ``recompute`` (the frontier for another team or SLA),
``figures_at`` (the figures at one threshold) and ``draw`` (the static view).

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> table = pd.DataFrame({"threshold": [10.0, 20.0, 30.0], "mqls": [300, 200, 100],
...     "mqls_per_month": [300.0, 200.0, 100.0], "utilisation": [1.2, 0.8, 0.4],
...     "sla_compliance": [0.3, 0.88, 0.95], "median_response_hours": [30.0, 9.0, 5.0],
...     "p90_response_hours": [90.0, 40.0, 30.0], "wins_per_month": [8.0, 9.0, 6.0],
...     "revenue_per_month": [300e3, 340e3, 250e3], "revenue_lost_per_month": [90e3, 30e3, 10e3],
...     "reps_needed": [6, 5, 3], "precision": [0.03, 0.045, 0.06], "recall": [1.0, 0.9, 0.5]})
>>> figures_at(table, 25)["sla_compliance"]
0.88
>>> fig = explore(table, widgets=False)
>>> type(fig).__name__
'Figure'
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

READOUT = (
    ("mqls_per_month", "MQLs a month", "{:,.0f}"),
    ("sla_compliance", "SLA met", "{:.1%}"),
    ("utilisation", "rep utilisation", "{:.0%}"),
    ("median_response_hours", "median hours to first touch", "{:.1f}"),
    ("p90_response_hours", "90th pct hours to first touch", "{:.1f}"),
    ("precision", "wins per MQL", "{:.1%}"),
    ("wins_per_month", "wins a month", "{:,.1f}"),
    ("revenue_per_month", "revenue a month", "{:,.0f}"),
    ("revenue_lost_per_month", "revenue lost to slow response", "{:,.0f}"),
    ("reps_needed", "reps needed for the SLA", "{:,.0f}"),
)
"""The figures the explorer shows: column, label, format."""

SLA_HOURS_CHOICES = (1.0, 2.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 36.0, 48.0)


def _parts(source) -> tuple[pd.DataFrame, Any, Any, float | None, Any]:
    """(table, team, sla, recommended threshold, the Tradeoffs or None) of any source."""
    threshold = None
    if hasattr(source, "tradeoffs") and hasattr(source, "threshold"):  # a Recommendation
        threshold = float(source.threshold)
        source = source.tradeoffs if source.tradeoffs is not None else getattr(source, "frontier", None)
        if source is None:
            raise ValueError("this recommendation has no trade-off table (nor a saved frontier)")
    if isinstance(source, pd.DataFrame):
        return source, None, None, threshold, None
    return source.table, source.team, source.sla, threshold, source


def _best(table: pd.DataFrame, target: float | None) -> float:
    """The threshold ``recommend`` would pick by revenue: the best among those whose SLA a new
    year meets with ``SLA_CONFIDENCE`` (``sla_floor``; the table's compliance is the trusted one)."""
    from calibrate.threshold import SLA_CONFIDENCE, choose, sla_floor

    pos, _ = choose(
        table,
        objective="revenue",
        target=None,
        sla_target=target if target is not None else -np.inf,
        compliance=sla_floor(table, SLA_CONFIDENCE),
    )
    return float(table.iloc[pos]["threshold"])


def figures_at(table, threshold: float) -> dict[str, float]:
    """The explorer's figures at ``threshold``: the row of the highest candidate not above it.

    ``sla_compliance`` is the trusted value (the simulation's where it overrides the
    analytic model), as ``recommend`` trusts it.
    """
    table = table.table if hasattr(table, "table") else table
    t = table["threshold"].to_numpy(dtype=float)
    i = max(0, int(np.searchsorted(t, threshold, side="right")) - 1)
    row = table.iloc[i]
    out = {"threshold": float(row["threshold"])}
    for column, _, _ in READOUT:
        if column in row.index:
            out[column] = float(row[column])
    return out


def recompute(tradeoffs, inputs, *, reps: int | None = None, sla_hours: float | None = None):
    """The frontier of the same leads and scores for another team size or SLA.

    Parameters
    ----------
    tradeoffs : the ``Tradeoffs`` to start from (its thresholds, capacity and window).
    inputs : per-lead scores, chances, handoff times and amounts
        (``calibrate.inputs.prepare``; anything with those attributes).
    reps, sla_hours : the new team size (``simulate.Team.with_size``) and SLA hours
        (default: unchanged).

    Returns
    -------
    Tradeoffs
        Analytic only (no bootstrap intervals, no simulated check).
    """
    from calibrate.tradeoffs import evaluate_tradeoffs

    capacity = tradeoffs.capacity
    if reps is not None:
        capacity = capacity.with_reps(reps)
    if sla_hours is not None:
        capacity = capacity.with_sla_hours(sla_hours)
    credited, amount = (
        inputs.threshold_values() if hasattr(inputs, "threshold_values") else (inputs.p_win, inputs.amount)
    )
    return evaluate_tradeoffs(
        inputs.score,
        credited,
        inputs.handoff_min,
        capacity=capacity,
        window=tradeoffs.window,
        amount=amount,
        historical_wait_min=inputs.historical_wait_min,
        thresholds=tradeoffs.table["threshold"].to_numpy(dtype=float),
        bootstrap=0,
        confidence=tradeoffs.confidence,
        returns_score=getattr(inputs, "returns_score", None),
        returns_handoff_min=getattr(inputs, "returns_handoff_min", None),
        returns_value=inputs.return_values() if hasattr(inputs, "return_values") else None,
    )


def _readout_rows(now: dict, base: dict | None) -> list[tuple[str, str, str]]:
    rows = []
    for column, label, fmt in READOUT:
        if column not in now:
            continue
        value = now[column]
        cell = fmt.format(value) if np.isfinite(value) else "n/a"
        ref = ""
        if base is not None and column in base and np.isfinite(base[column]):
            ref = fmt.format(base[column])
        rows.append((label, cell, ref))
    return rows


def draw(
    source,
    *,
    threshold: float | None = None,
    reference: float | None = None,
    recommended: float | None = None,
    figure: Figure | None = None,
    title: str | None = None,
) -> Figure:
    """The explorer's static view: the frontier with ``threshold`` marked, and its figures.

    Parameters
    ----------
    source : a ``Recommendation``, a ``Tradeoffs`` or a trade-off table.
    threshold : the threshold to show (default: the recommendation's, else the
        highest-revenue one that meets the SLA target).
    reference : a threshold whose figures are shown beside for comparison (default: the
        recommended one, when another threshold is shown).
    recommended : the threshold marked as recommended (default: the recommendation's).
    figure : draw into this figure (cleared first).
    """
    from calibrate.plotting import plot_frontier

    table, team, sla, from_source, trade = _parts(source)
    recommended = from_source if recommended is None else recommended
    target = getattr(sla, "target", None)
    if threshold is None:
        threshold = recommended if recommended is not None else _best(table, target)
    if reference is None and recommended is not None and recommended != threshold:
        reference = recommended
    fig = figure if figure is not None else Figure(figsize=(11, 4.4), dpi=80)
    fig.clear()
    ax = fig.add_axes((0.06, 0.12, 0.44, 0.72))  # room on the right for the revenue axis
    plot_frontier(trade if trade is not None else table, recommended=recommended, ax=ax, sla_target=target)
    twins = [a for a in fig.axes if a is not ax]  # plot_frontier's axes: shares, then revenue
    share = twins[0] if twins else ax
    money = twins[1] if len(twins) > 1 else None
    now = figures_at(table, threshold)
    best = float(table["revenue_per_month"].max())
    ax.axvline(now["threshold"], color="tab:red", linewidth=1.5)
    share.plot(
        [now["threshold"]],
        [now["sla_compliance"]],
        "o",
        color="tab:blue",
        ms=8,
        mec="black",
        zorder=5,
    )
    if best > 0:
        (money or share).plot(
            [now["threshold"]],
            [now["revenue_per_month"] if money is not None else now["revenue_per_month"] / best],
            "o",
            color="tab:green",
            ms=8,
            mec="black",
            zorder=5,
        )

    panel = fig.add_axes((0.67, 0.12, 0.32, 0.72))
    panel.axis("off")
    base = figures_at(table, reference) if reference is not None else None
    rows = _readout_rows(now, base)
    step = 1.0 / len(rows)
    column = 0.74 if base is not None else 0.92  # the selected figures' right edge
    header = [(column, f"selected\n{now['threshold']:g}", "tab:red")]
    if base is not None:
        name = "recommended" if reference == recommended else "threshold"
        header.append((1.0, f"{name}\n{base['threshold']:g}", "black"))
    for x, text, colour in header:
        panel.text(x, 1.0, text, ha="right", va="bottom", fontsize=9, weight="bold", color=colour)
    for i, (label, cell, ref) in enumerate(rows):
        y = 1.0 - (i + 0.25) * step
        colour = "black"
        if label == "SLA met" and target is not None:
            colour = "tab:green" if now["sla_compliance"] >= target else "tab:red"
        panel.text(0.0, y, label, ha="left", va="top", fontsize=9)
        panel.text(column, y, cell, ha="right", va="top", fontsize=9, color=colour)
        if base is not None:
            panel.text(1.0, y, ref, ha="right", va="top", fontsize=9, color="0.35")
    if title is None:
        title = "Threshold explorer"
        if team is not None and sla is not None:
            title += f": {team.size} reps, SLA {sla.hours:g} {sla.clock} hours for {sla.target:.0%}"
    fig.suptitle(title, fontsize="medium")
    return fig


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _widgets_available() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def explore(
    source,
    *,
    inputs=None,
    history=None,
    threshold: float | None = None,
    reps_choices: Sequence[int] | None = None,
    sla_hours_choices: Sequence[float] = SLA_HOURS_CHOICES,
    widgets: bool | None = None,
):
    """Explore the trade-off: move the threshold, the reps and the SLA hours.

    Parameters
    ----------
    source : a ``Recommendation`` (from ``recommend``), a ``Tradeoffs`` or its table.
    inputs : the per-lead inputs the trade-offs came from (``calibrate.inputs.prepare``
        with the same scorecard and horizon).
    history : instead of ``inputs``, the history a recommendation was made from: its
        inputs are prepared again with the recommendation's scorecard. Without either, the
        reps and SLA sliders are disabled.
    threshold : where the threshold slider starts (default: the recommendation's).
    reps_choices : team sizes offered (default 1 to twice the team, at least 8).
    sla_hours_choices : SLA hours offered (the current SLA's hours are added).
    widgets : ``True`` for the widget, ``False`` for the static figure, ``None`` (default)
        for the widget when ipywidgets is installed and this runs in a kernel.

    Returns
    -------
    An ``ipywidgets`` box (``.threshold``, ``.reps``, ``.sla_hours`` are its sliders,
    ``.view()`` the current ``Figure``), or a matplotlib ``Figure``.
    """
    if widgets is None:
        widgets = _widgets_available() and _in_kernel()
    if inputs is None and history is not None and getattr(source, "scorecard", None) is not None:
        from calibrate.inputs import prepare

        inputs = prepare(history, scorecard=source.scorecard)
    if not widgets:
        return draw(source, threshold=threshold)
    return _widget_class()(
        source,
        inputs=inputs,
        threshold=threshold,
        reps_choices=reps_choices,
        sla_hours_choices=sla_hours_choices,
    )


@functools.cache
def _widget_class():
    """The explorer widget, defined on first use (ipywidgets is an optional dependency)."""
    import ipywidgets as w

    class Explorer(w.VBox):
        """Sliders over the threshold, the reps and the SLA hours; the frontier; the figures."""

        def __init__(
            self,
            source,
            *,
            inputs,
            threshold,
            reps_choices,
            sla_hours_choices,
        ):
            table, team, sla, recommended, trade = _parts(source)
            self._source, self._inputs = source, inputs
            self._recommended = recommended
            self._base = (
                team.size if team is not None else None,
                sla.hours if sla is not None else None,
            )
            self._cache = {self._base: trade if trade is not None else table}
            start = threshold if threshold is not None else recommended
            if start is None:
                start = _best(table, getattr(sla, "target", None))
            options = [(f"{t:g}", float(t)) for t in table["threshold"]]
            self.threshold = w.SelectionSlider(
                options=options,
                value=figures_at(table, start)["threshold"],
                description="threshold",
                continuous_update=False,
            )
            can_move = inputs is not None and trade is not None
            self._can_move = can_move
            size = team.size if team is not None else 1
            reps_choices = list(reps_choices or range(1, max(8, 2 * size) + 1))
            if size not in reps_choices:
                reps_choices = sorted({*reps_choices, size})
            self.reps = w.SelectionSlider(
                options=reps_choices,
                value=size,
                description="reps",
                continuous_update=False,
                disabled=not can_move,
            )
            hours = sorted({*map(float, sla_hours_choices), *([sla.hours] if sla is not None else [])})
            self.sla_hours = w.SelectionSlider(
                options=[(f"{h:g} h", h) for h in hours],
                value=sla.hours if sla is not None else hours[0],
                description="SLA hours",
                continuous_update=False,
                disabled=not can_move,
            )
            note = (
                ""
                if can_move
                else ("<small>Pass <code>inputs=prepare(...)</code> to move the reps and the SLA hours.</small>")
            )
            self._note = note
            self.status = w.HTML(note)
            self.output = w.Output()
            self._figure = Figure(figsize=(11, 4.4), dpi=80)
            for slider in (self.threshold, self.reps, self.sla_hours):
                slider.observe(self._update, names="value")
            super().__init__([w.HBox([self.threshold, self.reps, self.sla_hours]), self.status, self.output])
            self._update()

        def _key(self) -> tuple:
            return (self.reps.value, self.sla_hours.value) if self._can_move else self._base

        def current(self):
            """The trade-offs for the sliders' team and SLA (recomputed once, then cached)."""
            key = self._key()
            if key not in self._cache:
                self._cache[key] = recompute(
                    self._cache[self._base],
                    self._inputs,
                    reps=key[0],
                    sla_hours=key[1],
                )
            return self._cache[key]

        def view(self) -> Figure:
            """The current view as a static figure."""
            trade = self.current()
            moved = self._key() != self._base
            reference = self._recommended if moved or self.threshold.value != self._recommended else None
            title = None
            if moved and self._recommended is not None:
                sla = self._cache[self._base].sla
                title = (
                    f"Threshold explorer: {self.reps.value} reps, SLA {self.sla_hours.value:g} "
                    f"{sla.clock} hours for {sla.target:.0%} (was {self._base[0]} reps, "
                    f"{self._base[1]:g} hours)"
                )
            return draw(
                trade,
                threshold=self.threshold.value,
                reference=reference,
                recommended=self._recommended,
                figure=self._figure,
                title=title,
            )

        def _update(self, change=None) -> None:
            from IPython.display import Image, display

            key = self._key()
            if key not in self._cache:
                what = f"{key[0]} reps and {key[1]:g} hours"
                self.status.value = f"<small>computing the frontier for {what}...</small>"
            self.view()
            self.status.value = self._note
            with self.output:
                self.output.clear_output(wait=True)
                display(Image(data=base64.b64decode(_png(self._figure))))

        def _repr_mimebundle_(self, **kwargs):
            data = super()._repr_mimebundle_(**kwargs)
            if isinstance(data, dict):
                data["image/png"] = _png(self._figure)
            return data

    return Explorer
