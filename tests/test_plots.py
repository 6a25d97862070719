"""The analyst's plots, the notebook reprs and the explorer: structure, data drawn = data given.

Each plot is checked for what a reader relies on: the axis labels, the number of bars or
lines, that the drawn values equal the input figures, and the legend. Every figure is also
drawn to a PNG at the end of its test, so a formatter or layout that fails only at draw time
fails here too.
"""

import dataclasses
import datetime as dt
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import simulate  # noqa: E402
from calibrate import explorer  # noqa: E402
from calibrate import plotting as cplot  # noqa: E402
from calibrate.diagnostics import funnel_conversion  # noqa: E402
from calibrate.recommendation import Estimate as Expected  # noqa: E402
from calibrate.recommendation import Recommendation  # noqa: E402
from simulate import plotting as splot  # noqa: E402
from simulate.sweeps import SerialExecutor, sweep  # noqa: E402


@pytest.fixture(autouse=True)
def _draw_and_close():
    """Render every figure a test made (a draw-time error fails the test), then close it."""
    yield
    for number in plt.get_fignums():
        plt.figure(number).savefig(io.BytesIO(), format="png")
    plt.close("all")


@pytest.fixture(scope="module")
def result(small_scenario):
    return simulate.run(small_scenario, seed=3)


def _bars(ax: Axes):
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


def _twin(ax: Axes) -> Axes:
    others = [a for a in ax.figure.axes if a is not ax and a.bbox.bounds == ax.bbox.bounds]
    assert len(others) == 1, "expected one twin axis"
    return others[0]


def _legend_texts(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


# --- simulate.plotting ----------------------------------------------------------------------
def test_every_plot_draws_on_the_given_axes_and_returns_it(result):
    calls = [
        lambda ax: splot.plot_funnel(result, ax=ax),
        lambda ax: splot.plot_mql_arrivals(result, ax=ax),
        lambda ax: splot.plot_response_times(result, ax=ax),
        lambda ax: splot.plot_score_distribution(result, ax=ax),
        lambda ax: splot.plot_rep_utilisation(result, ax=ax),
    ]
    for call in calls:
        fig, ax = plt.subplots()
        assert call(ax) is ax
        assert ax.get_title()
    ax = splot.plot_funnel(result)  # no ax: a new figure
    assert isinstance(ax, Axes)


def test_stage_counts_agree_with_calibrate_funnel_conversion(result):
    mine = splot.stage_counts(result)
    theirs = funnel_conversion(result.leads)
    assert mine["leads"].tolist() == theirs["leads"].tolist()
    np.testing.assert_allclose(mine["from_previous"], theirs["from_previous"])
    assert mine["stage"].tolist() == ["created", "MQL", "SAL", "SQL", "opportunity", "won"]


def test_funnel_bars_are_the_stage_counts_with_conversion_labels(result):
    counts = splot.stage_counts(result)
    ax = splot.plot_funnel(result)
    bars = _bars(ax)
    assert [b.get_width() for b in bars] == counts["leads"].tolist()
    assert [t.get_text() for t in ax.get_yticklabels()] == counts["stage"].tolist()
    labels = [t.get_text() for t in ax.texts]
    assert len(labels) == len(counts)
    assert f"({counts['from_previous'].iloc[1]:.1%} of leads)" in labels[1]
    assert ax.get_xscale() == "log" and "leads" in ax.get_xlabel()
    linear = splot.plot_funnel(counts, log=False)  # a stage_counts table works as input
    assert linear.get_xscale() == "linear"
    assert [b.get_width() for b in _bars(linear)] == counts["leads"].tolist()


def test_arrivals_bars_are_the_monthly_mqls_and_the_line_the_backlog(result):
    s = result.summary
    ax = splot.plot_mql_arrivals(result)
    bars = _bars(ax)
    n = len(s)
    assert len(bars) == 2 * n  # new MQLs, then those back from nurture stacked on top
    assert [b.get_height() for b in bars[:n]] == s["mqls"].astype(float).tolist()
    assert [b.get_y() for b in bars[n:]] == s["mqls"].astype(float).tolist()
    assert [b.get_height() for b in bars[n:]] == s["returned_mqls"].astype(float).tolist()
    (line,) = _twin(ax).get_lines()
    np.testing.assert_array_equal(line.get_ydata(), s["backlog_at_month_end"].astype(float))
    assert _legend_texts(ax) == [
        "new MQLs",
        "back from nurture",
        "waiting for a first touch at month end",
    ]
    assert "MQLs" in ax.get_ylabel() and "backlog" in _twin(ax).get_ylabel()
    assert len(ax.get_xticks()) == n


def test_arrivals_from_a_crm_summary_without_backlog():
    from calibrate import load_history

    export = pd.DataFrame(
        {
            "lead_id": [1, 2, 3],
            "created_at": ["2026-01-05", "2026-01-05", "2026-02-14"],
            "source": "web",
            "mql_at": ["2026-01-05", None, "2026-02-15"],
        }
    )
    summary = simulate.simulation.monthly_summary(load_history(export).leads)
    ax = splot.plot_mql_arrivals(summary)
    assert [b.get_height() for b in _bars(ax)][:2] == [1.0, 1.0]
    assert len(ax.figure.axes) == 1  # no backlog axis


def test_response_times_histogram_counts_every_touched_mql_and_marks_the_sla(result):
    sla = result.scenario.sla
    hours = splot.response_hours(result)
    ax = splot.plot_response_times(result)
    bars = _bars(ax)
    assert sum(b.get_height() for b in bars) == hours["sla_hours"].notna().sum()
    edges = [b.get_x() for b in bars]
    assert any(np.isclose(e, sla.hours) for e in edges), "a bin edge sits on the SLA"
    late = [b for b in bars if b.get_x() >= sla.hours - 1e-9]
    assert late and all(b.get_facecolor() != bars[0].get_facecolor() for b in late)
    (line,) = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert line.get_xdata()[0] == sla.hours
    met = result.leads.loc[result.leads["mql_at"].notna(), "sla_met"].astype("Float64").mean()
    assert f"{met:.1%} within the SLA" in ax.get_title()
    assert "business hours" in ax.get_xlabel()


def test_response_hours_on_the_sla_clock_agree_with_sla_met(result):
    r = splot.response_hours(result).dropna()
    within = r["sla_hours"] <= result.scenario.sla.hours + 1e-6
    agree = (within == r["sla_met"].astype(bool)).mean()
    assert agree > 0.99


def test_response_times_from_a_lead_table_use_calendar_hours(result):
    ax = splot.plot_response_times(result.leads, sla_hours=24.0)
    assert "calendar hours" in ax.get_xlabel()
    assert any(np.isclose(ln.get_xdata()[0], 24.0) for ln in ax.get_lines())


def test_score_distribution_draws_one_step_histogram_per_outcome():
    rng = np.random.default_rng(0)
    score = rng.integers(0, 100, 2000).astype(float)
    won = rng.random(2000) < score / 200
    ax = splot.plot_score_distribution(score, won=won, threshold=55)
    assert len(ax.patches) == 2  # two step outlines
    assert _legend_texts(ax) == [
        f"not won ({(~won).sum():,} leads)",
        f"won ({won.sum():,} leads)",
        "MQL threshold 55",
    ]
    assert ax.get_xlabel() == "score (points)"
    with pytest.raises(ValueError, match="give won="):
        splot.plot_score_distribution(score)
    with pytest.raises(ValueError, match="won has 3 values"):
        splot.plot_score_distribution(score, won=[True, False, True])


def test_score_distribution_of_a_run_marks_its_threshold(result):
    ax = splot.plot_score_distribution(result)
    assert f"MQL threshold {result.scenario.rules.mql_threshold:g}" in _legend_texts(ax)


def test_rep_utilisation_bars_are_the_monthly_utilisation(result):
    s = result.summary
    ax = splot.plot_rep_utilisation(result)
    assert [b.get_height() for b in _bars(ax)] == s["rep_utilisation"].tolist()
    (sla_line,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    np.testing.assert_allclose(sla_line.get_ydata(), s["sla_compliance"])
    assert f"SLA target {result.scenario.sla.target:.0%}" in _legend_texts(ax)
    assert f"({result.scenario.team.size} reps)" in ax.get_title()
    with pytest.raises(KeyError, match="rep_utilisation"):
        splot.plot_rep_utilisation(s.drop(columns="rep_utilisation"))


@pytest.fixture(scope="module")
def whatifs():
    s = simulate.Scenario(months=1)
    scenarios = {"default": s, "3 reps": s.replace(team=dataclasses.replace(s.team, reps=3))}
    return sweep(scenarios, seeds=2, executor=SerialExecutor(), progress=False)


def test_scenario_comparison_bars_are_the_means_over_seeds(whatifs):
    summary = whatifs.summary
    mean = summary.groupby("scenario", sort=False)["sla_compliance"].mean()
    ax = splot.plot_scenario_comparison(summary, "sla_compliance", baseline="default", target=0.9)
    bars = _bars(ax)
    np.testing.assert_allclose([b.get_width() for b in bars], mean.to_numpy())
    assert {t.get_text() for t in ax.get_yticklabels()} == set(mean.index)
    assert matplotlib.colors.to_hex(bars[0].get_facecolor()) == matplotlib.colors.to_hex("tab:grey")
    assert "target 90.0%" in ax.get_title() and "2 seeds" in ax.get_xlabel()
    with pytest.raises(KeyError, match="no column 'nope'"):
        splot.plot_scenario_comparison(summary, "nope")


def test_monthly_comparison_draws_a_line_per_scenario(whatifs):
    ax = splot.plot_monthly_comparison(whatifs.monthly, "backlog_at_month_end")
    lines = [ln for ln in ax.get_lines() if ln.get_label() in ("default", "3 reps")]
    assert len(lines) == 2
    expected = whatifs.monthly.groupby("scenario")["backlog_at_month_end"].mean()
    for line in lines:
        np.testing.assert_allclose(line.get_ydata(), [expected[line.get_label()]])


# --- calibrate.plotting: the SLA load and the staffing --------------------------------------
@pytest.fixture(scope="module")
def trade():
    """A real trade-off table of synthetic leads (analytic load only, a few seconds)."""
    from calibrate.capacity import SalesCapacity, Window
    from calibrate.tradeoffs import evaluate_tradeoffs

    rng = np.random.default_rng(5)
    n, days = 6000, 60
    score = rng.integers(0, 60, n).astype(float)
    return evaluate_tradeoffs(
        score,
        np.clip(score / 400, 0, 1),
        np.sort(rng.uniform(0, days * 1440.0, n)),
        capacity=SalesCapacity(team=simulate.Team(reps=3)),
        window=Window(start=dt.date(2026, 1, 1), days=days),
        amount=10_000.0,
        bootstrap=0,
        thresholds=np.arange(0, 60, 4.0),
    )


def test_sla_load_draws_the_table(trade):
    t = trade.table
    ax = cplot.plot_sla_load(trade, recommended=20.0)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    np.testing.assert_allclose(lines["SLA met (analytic)"].get_ydata(), t["sla_compliance"])
    np.testing.assert_allclose(lines["rep utilisation"].get_ydata(), t["utilisation"])
    assert lines["SLA target 90%"].get_ydata()[0] == 0.9
    right = {ln.get_label(): ln for ln in _twin(ax).get_lines()}
    shown = right["median hours to first touch"].get_ydata()
    stable = t["utilisation"].to_numpy() < 1
    np.testing.assert_allclose(shown[stable], t.loc[stable, "median_response_hours"])
    assert np.isnan(shown[~stable]).all()
    assert _twin(ax).get_yscale() == "log"
    assert ax.get_xlabel() == "MQL threshold (score)" and "(3 reps, 8 business hours)" in ax.get_title()
    assert any(t_.get_text() == "recommended 20" for t_ in ax.texts)


def test_staffing_steps_are_reps_needed_and_the_team_is_a_line(trade):
    t = trade.table
    ax = cplot.plot_staffing(trade, recommended=20.0)
    (step,) = [ln for ln in ax.get_lines() if ln.get_label() == "reps needed for the SLA target"]
    np.testing.assert_allclose(step.get_ydata(), t["reps_needed"].where(t["reps_needed"] >= 0))
    (team,) = [ln for ln in ax.get_lines() if ln.get_label() == "your team: 3 reps"]
    assert team.get_ydata()[0] == 3
    assert ax.get_ylabel() == "reps"
    ax = cplot.plot_staffing(t, reps=5)  # a bare table needs the team size
    assert "your team: 5 reps" in _legend_texts(ax)


# --- reprs for notebooks --------------------------------------------------------------------
def test_scenario_html_shows_the_main_knobs():
    s = simulate.Scenario(name="<b>test</b>")
    html = s._repr_html_()
    assert "&lt;b&gt;test&lt;/b&gt;" in html  # escaped
    assert "3,000 new leads a month" in html and "4 reps" in html
    assert "within 8 business hours for 90% of MQLs" in html and "score &gt;= 60" in html


def test_run_result_html_has_the_totals_and_one_row_per_month(result):
    html = result._repr_html_()
    assert html.count("<tr>") >= 2 + len(result.summary)
    assert f"{len(result.leads):,}" in html
    assert "SLA met (8 business h, target 90%)" in html
    assert repr(result).startswith("RunResult(")


def _recommendation(**changes) -> Recommendation:
    base = {
        "rules": simulate.scenario.default_rules().replace_threshold(55),
        "threshold": 55.0,
        "objective": "revenue",
        "constraints": {
            "reps": 4,
            "sla_hours": 8.0,
            "sla_clock": "business",
            "sla_target": 0.9,
            "feasible": True,
        },
        "expected": {
            "mqls_per_month": Expected(400.0, 380.0, 420.0),
            "sla_compliance": Expected(0.93, 0.91, 0.95),
            "revenue_per_month": Expected(1.0e6),
        },
        "current": {
            "mqls_per_month": Expected(570.0),
            "sla_compliance": Expected(0.84),
            "revenue_per_month": Expected(0.9e6),
        },
    }
    return Recommendation(**{**base, **changes})


def test_recommendation_html_is_the_summary_table():
    html = _recommendation()._repr_html_()
    assert "Recommended MQL threshold: 55" in html
    assert "<th>current rules</th>" in html
    for text in ("MQLs a month", "400", "380 to 420", "93.0%", "1,000,000", "84.0%"):
        assert text in html
    assert "No threshold meets" not in html
    verified = _recommendation(
        verification=pd.DataFrame({"sla_compliance": [0.92, 0.94], "wins_per_month": [30.0, 32.0]})
    )
    assert "Verified in simulation (2 seeds): SLA met 93.0%" in verified._repr_html_()


def test_recommendation_html_after_a_json_round_trip():
    loaded = Recommendation.from_json(_recommendation(current=None).to_json())
    html = loaded._repr_html_()
    assert "current rules" not in html and "Recommended MQL threshold: 55" in html


# --- the explorer ---------------------------------------------------------------------------
def test_explorer_falls_back_to_a_static_figure_outside_a_kernel(trade):
    fig = explorer.explore(trade)  # pytest is no kernel
    assert isinstance(fig, Figure)
    frontier = fig.axes[0]
    assert frontier.get_xlabel() == "MQL threshold (score)"
    best = explorer._best(trade.table, 0.9)
    panel_text = [t.get_text() for t in fig.axes[-1].texts]
    assert f"selected\n{best:g}" in panel_text and "SLA met" in panel_text
    assert any(np.isclose(ln.get_xdata()[0], best) for ln in frontier.get_lines() if ln.get_color() == "tab:red")
    fig.savefig(io.BytesIO(), format="png")


def test_explorer_shows_a_recommendation_and_its_reference(trade):
    rec = _recommendation(threshold=20.0, tradeoffs=trade)
    fig = explorer.draw(rec, threshold=32.0)
    panel_text = [t.get_text() for t in fig.axes[-1].texts]
    assert "selected\n32" in panel_text and "recommended\n20" in panel_text
    with pytest.raises(ValueError, match="no trade-off table"):
        explorer.draw(_recommendation())


def test_figures_at_takes_the_highest_candidate_not_above(trade):
    t = trade.table
    got = explorer.figures_at(trade, 21.0)
    row = t[t["threshold"] == 20.0].iloc[0]
    assert got["threshold"] == 20.0 and got["mqls_per_month"] == row["mqls_per_month"]
    assert explorer.figures_at(t, -5.0)["threshold"] == t["threshold"].iloc[0]


@pytest.fixture(scope="module")
def inputs():
    """Per-lead inputs of the ``trade`` fixture (what ``calibrate.threshold.prepare`` gives)."""
    rng = np.random.default_rng(5)
    n, length = 6000, 60
    score = rng.integers(0, 60, n).astype(float)

    @dataclasses.dataclass
    class Inputs:
        score: np.ndarray
        p_win: np.ndarray
        handoff_min: np.ndarray
        amount: np.ndarray
        historical_wait_min: None = None
        start: dt.date = dt.date(2026, 1, 1)
        days: int = length

    return Inputs(
        score,
        np.clip(score / 400, 0, 1),
        np.sort(rng.uniform(0, length * 1440.0, n)),
        np.full(n, 10_000.0),
    )


def test_recompute_with_the_same_team_gives_the_same_frontier(trade, inputs):
    again = explorer.recompute(trade, inputs)
    for column in (
        "mqls_per_month",
        "sla_compliance",
        "utilisation",
        "revenue_per_month",
        "reps_needed",
    ):
        np.testing.assert_allclose(again.table[column], trade.table[column], err_msg=column)


def test_recompute_more_reps_and_a_longer_sla_never_serve_worse(trade, inputs):
    more = explorer.recompute(trade, inputs, reps=5)
    assert more.team.size == 5
    np.testing.assert_array_equal(more.table["mqls_per_month"], trade.table["mqls_per_month"])
    assert (more.table["sla_compliance"] >= trade.table["sla_compliance"] - 1e-9).all()
    assert (more.table["utilisation"] < trade.table["utilisation"]).all()
    longer = explorer.recompute(trade, inputs, sla_hours=24.0)
    assert longer.sla.hours == 24.0
    assert (longer.table["sla_compliance"] >= trade.table["sla_compliance"] - 1e-9).all()


def test_explorer_widget_recomputes_when_the_reps_move(trade, inputs, capsys):
    pytest.importorskip("ipywidgets")
    rec = _recommendation(threshold=20.0, tradeoffs=trade)
    box = explorer.explore(rec, inputs=inputs, widgets=True)
    assert box.threshold.value == 20.0 and box.reps.value == 3 and not box.reps.disabled
    before = explorer.figures_at(box.current(), 20.0)["sla_compliance"]
    box.reps.value = 5
    after = explorer.figures_at(box.current(), 20.0)["sla_compliance"]
    assert after >= before
    assert box.current().team.size == 5 and (5, 8.0) in box._cache
    panel = [t.get_text() for t in box.view().axes[-1].texts]
    assert "recommended\n20" in panel  # another team: the recommendation's figures beside
    bundle = box._repr_mimebundle_()
    assert {"image/png", "text/plain"} <= set(bundle)
    fixed = explorer.explore(rec, widgets=True)  # no inputs: only the threshold moves
    assert fixed.reps.disabled and fixed.sla_hours.disabled
    fixed.threshold.value = 32.0
    assert "selected\n32" in [t.get_text() for t in fixed.view().axes[-1].texts]
    bare = explorer.explore(trade.table, widgets=True)  # a bare table: no team, no SLA
    assert bare.reps.disabled and isinstance(bare.view(), Figure)
