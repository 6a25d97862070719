"""``Recommendation``: the chosen points and threshold, what they are expected to give, as JSON.

The JSON config is versioned (``format``), records the package version, the seed and a
fingerprint of the history it came from, and is validated against the JSON schema shipped
with the package (``calibrate/recommendation.schema.json``) both when written and when read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulate.atomic import write_text_atomic
from simulate.output_folder import package_version
from simulate.rules import ScoringRules
from simulate.spec import SpecError

FORMAT = "leadfunnel.recommendation/1"
SUPPORTED_FORMATS = (FORMAT,)

FIGURE_LABELS = {
    "mqls_per_month": ("MQLs a month", "{:,.0f}"),
    "sla_compliance": ("SLA met", "{:.1%}"),
    "utilisation": ("rep utilisation", "{:.0%}"),
    "median_response_hours": ("median response, hours", "{:.1f}"),
    "p90_response_hours": ("90th pct response, hours", "{:.1f}"),
    "precision": ("precision (wins per MQL)", "{:.1%}"),
    "recall": ("recall (share of wins)", "{:.1%}"),
    "wins_per_month": ("wins a month", "{:,.1f}"),
    "revenue_per_month": ("revenue a month", "{:,.0f}"),
    "revenue_lost_per_month": ("revenue lost, slow response", "{:,.0f}"),
    "reps_needed": ("reps needed for the SLA", "{:,.0f}"),
    "unworked_mqls_per_month": ("MQLs never worked before", "{:,.0f}"),
    "extrapolated_share": ("share of MQLs never worked", "{:.0%}"),
    "extrapolated_wins_per_month": ("most wins they may add", "{:,.1f}"),
    "extrapolated_revenue_per_month": ("most revenue they may add", "{:,.0f}"),
}


class RecommendationError(ValueError):
    """A recommendation file that cannot be used; the message names the file and the key."""


def schema() -> dict:
    """The JSON schema a recommendation file must satisfy."""
    return json.loads(files("calibrate").joinpath("recommendation.schema.json").read_text(encoding="utf-8"))


def fingerprint(leads: pd.DataFrame) -> str:
    """``sha256:`` of the history's rows (order, values and column names)."""
    digest = hashlib.sha256()
    digest.update(json.dumps([str(c) for c in leads.columns]).encode())
    digest.update(pd.util.hash_pandas_object(leads, index=False).to_numpy().tobytes())
    return f"sha256:{digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class Estimate:
    """An expected figure with two intervals (``None`` where there is none).

    ``low`` / ``high`` bound the expected value (the uncertainty of the estimate);
    ``year_low`` / ``year_high`` the range of a new year (where one coming year's figure may
    fall: the estimate's uncertainty plus a year's arrivals, outcomes and queue).
    """

    value: float | None
    low: float | None = None
    high: float | None = None
    year_low: float | None = None
    year_high: float | None = None

    def to_dict(self) -> dict:
        """The estimate as plain data (non-finite numbers as ``None``, absent ranges left out)."""
        out = {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high)}
        if self.year_low is not None or self.year_high is not None:
            out |= {"year_low": _num(self.year_low), "year_high": _num(self.year_high)}
        return out


def _num(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if not np.isfinite(x) else x


@dataclass(frozen=True, slots=True, eq=False)
class Recommendation:
    """The recommended rules and what to expect from them.

    Attributes
    ----------
    rules : the recommended ``ScoringRules`` (points and threshold).
    threshold : the MQL threshold (also ``rules.mql_threshold`` for a single-axis rule).
    objective : what was maximised (``"revenue"``, ``"wins"``, ``"volume"``, ``"pipeline"``).
    constraints : reps, SLA hours, clock and target share.
    expected : figures expected under the recommendation, each with an interval.
    current : the same figures under the current rules (if known).
    seed, data_fingerprint, package_version, history : provenance.
    tradeoffs : the full trade-off table (not saved in the JSON).
    verification : the simulated check of the recommendation, if one ran.
    scorecard : the fitted ``Scorecard`` behind the points (not saved in the JSON).
    current_rules : the rules in force it was compared with, if given (not saved).
    uplift : the expected gain over the current rules, each with its 95% interval (the
        outcome noise of the leads only one of the two sets has).
    world : the ``FittedWorld`` it was made in (not saved; ``calibrate.verify`` runs in it).
    inputs : every input with its basis: ``input, value, basis`` ("fitted from N leads",
        "given", "assumed (source)").
    monitor_reference : what ``calibrate.monitor`` compares a new month with (plain data,
        see ``calibrate.monitor_reference``), or ``None``.
    currency : ISO code of the deal amounts (revenue figures are in it).
    data_quality, model_checks : rows read and used with rejects by reason; the points'
        cross-fitted AUC and calibration (``calibrate.report_data``).
    frontier : the compact trade-off table saved in the JSON (``tradeoffs`` is not): the
        figures on up to 80 thresholds, enough for a report, a plot or the explorer.
    verified : the saved verification summary of a config read from a file (the paired
        uplift per figure); ``verification`` holds the full table when one ran here.
    routing : the queue policy to run with the threshold (``simulate.Policy.to_dict``: its
        routing, discipline, aging, breach action and rule in words; with ``chosen`` and the
        ``tournament`` record when a tournament chose it), or ``None``: the team's own.
    tournament : the ``calibrate.Tournament`` that chose it (not saved).
    """

    rules: ScoringRules
    threshold: float
    objective: str
    constraints: dict[str, Any]
    expected: dict[str, Estimate]
    current: dict[str, Estimate] | None = None
    seed: int = 0
    data_fingerprint: str = "sha256:" + "0" * 64
    package_version: str = field(default_factory=package_version)
    history: dict[str, Any] = field(default_factory=dict)
    tradeoffs: Any = None
    verification: pd.DataFrame | None = None
    scorecard: Any = None
    current_rules: ScoringRules | None = None
    uplift: dict[str, Estimate] | None = None
    world: Any = None
    inputs: pd.DataFrame | None = None
    monitor_reference: dict | None = None
    currency: str = "USD"
    data_quality: dict[str, Any] | None = None
    model_checks: dict[str, Any] | None = None
    frontier: pd.DataFrame | None = None
    verified: dict[str, Any] | None = None
    routing: dict[str, Any] | None = None
    tournament: Any = None

    def with_verification(self, verification: pd.DataFrame) -> Recommendation:
        """The recommendation with a verification (``calibrate.verify``) attached."""
        return dataclasses.replace(self, verification=verification)

    # --- text ---------------------------------------------------------------------------
    def summary(self) -> str:
        """A one-screen text summary: the threshold and the figures against the current rules.

        Each figure has its expected value, the interval of that expectation, and the range of
        a new year (where one coming year may fall); the verified, paired uplift follows when
        a verification is attached (``with_verification``).
        """
        c = self.constraints
        confidence = c.get("sla_confidence")
        lines = [
            f"Recommended MQL threshold: {self.threshold:g} (objective: {self.objective})",
            f"Team of {c['reps']} reps; SLA: first touch within {c['sla_hours']:g} {c['sla_clock']} "
            f"hours for {c['sla_target']:.0%} of MQLs",
        ]
        if confidence and c.get("sla_spread", "simulated") == "simulated":
            lines.append(f"The SLA target is met in {confidence:.0%} of new years (the stated confidence).")
        elif confidence:
            lines.append(
                f"The SLA target is met in {confidence:.0%} of new years only if a year varies no more "
                "than its MQLs' binomial spread (no simulated check: simulate_seeds=0)."
            )
        if c.get("kept_current_rules"):
            lines.append("Keep the rules in force: no threshold of the refitted points does better.")
        if c.get("sla_model") == "simulation":
            lines.append("SLA figures from the simulation (outside the analytic model's checked range).")
        if c.get("point_in_time") is False:
            lines.append("Caution: the counts are end-of-history totals, not what the MQL moment knew.")
        lines += self._routing_lines()
        lines.append("")
        rows = []
        for key, (label, fmt) in FIGURE_LABELS.items():
            if key not in self.expected:
                continue
            e = self.expected[key]
            now = _short(fmt, self.current[key].value) if self.current and key in self.current else ""
            rows.append(
                (
                    label,
                    _short(fmt, e.value),
                    _range(fmt, e.low, e.high),
                    _range(fmt, e.year_low, e.year_high),
                    now,
                )
            )
        head = ("", "expected", "its range", "a new year", "current" if self.current else "")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
        for r in [head, *rows]:
            cells = [r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
        lines += self._extrapolation_lines()
        lines += self._verification_lines()
        lines += self._input_lines()
        lines += ["", f"History {self.data_fingerprint[:19]}..., seed {self.seed}, leadfunnel {self.package_version}"]
        return "\n".join(lines)

    def _routing_lines(self) -> list[str]:
        """The queue policy to run and, when a tournament chose it, its gain over the reference."""
        if not self.routing:
            return []
        from calibrate.world import wrap80

        out = [wrap80(f"Routing: {self.routing['rule']}")]
        record = self.routing.get("tournament")
        if record:
            rows = {r["policy"]: r for r in record["policies"]}
            mine = rows.get(self.routing.get("name"))
            if mine and mine.get("gain") is not None:
                if record["objective"] == "wins_per_month":
                    unit, fmt = "wins", "{:+,.2f}"
                else:
                    unit, fmt = f"revenue ({self.currency})", "{:+,.0f}"
                gain, low, high = (fmt.format(mine[k]) for k in ("gain", "gain_low", "gain_high"))
                text = (
                    f"  chosen from {len(rows)} policies on {record['seeds']} paired seeds: "
                    f"{gain} {unit} a month over {record['reference']} [{low} to {high}], "
                    "each at its own best threshold"
                )
                out.append(wrap80(text))
        return out

    def _extrapolation_lines(self) -> list[str]:
        """How much of the volume and wins comes from regions the history never worked."""
        share = self.expected.get("extrapolated_share")
        if share is None or share.value is None or share.value < 0.005:
            return []
        from calibrate.world import wrap80

        wins = self.expected.get("extrapolated_wins_per_month")
        revenue = self.expected.get("extrapolated_revenue_per_month")
        most = f" and at most {wins.value:,.1f} a month" if wins is not None and wins.value is not None else ""
        if most and revenue is not None and revenue.value is not None:
            most += f" ({revenue.value:,.0f} {self.currency} of revenue)"
        text = (
            f"{share.value:.0%} of these MQLs come from regions of the score the history never "
            f"worked (no outcome was seen there): their wins count as none in 'expected'{most} "
            "at the top of the plausible range; the wins and revenue ranges span both. "
            "calibrate.exploration_plan(history) plans the experiment that measures them."
        )
        return ["", wrap80(text)]

    def _input_lines(self) -> list[str]:
        """Each input and where it comes from (fitted, given or assumed)."""
        if self.inputs is None or not len(self.inputs):
            return []
        out = ["", "Inputs:"]
        from calibrate.world import wrap80

        for row in self.inputs.itertuples():
            out.append(wrap80(f"  {row.input}: {row.value}"))
            out.append(wrap80(f"      {row.basis}"))
        return out

    def _verification_lines(self) -> list[str]:
        """The verified figures: the paired uplift over the current rules where both ran."""
        v = self.verification
        if v is None or not len(v):
            return []
        from calibrate.verification import arm_rows, paired_uplift

        if "arm" not in v or "current" not in set(v["arm"]):
            v = arm_rows(v)
            return [
                "",
                f"Verified in simulation ({len(v)} seeds): SLA met "
                f"{v['sla_compliance'].mean():.1%}, wins a month {v['wins_per_month'].mean():,.1f}",
            ]
        up = paired_uplift(v).set_index("figure")
        seeds = int(up["seeds"].iloc[0])
        out = ["", f"Verified on {seeds} new simulated years, same seeds for both rule sets:"]
        labels = {"sla_compliance": ("SLA met", "{:+.1%}"), "wins_per_month": ("wins a month", "{:+,.1f}")}
        labels["revenue_per_month"] = ("revenue a month", _Thousands())
        labels["mqls_per_month"] = ("MQLs a month", "{:+,.0f}")
        for name, (label, fmt) in labels.items():
            if name not in up.index:
                continue
            r = up.loc[name]
            claim = ""
            u = (self.uplift or {}).get(name)
            if u is not None and u.value is not None:
                claim = f" (claimed {fmt.format(u.value)}"
                claim += f" [{fmt.format(u.low)} to {fmt.format(u.high)}])" if u.low is not None else ")"
            out.append(
                f"  {label}: {fmt.format(r['uplift'])} [{fmt.format(r['low'])} to {fmt.format(r['high'])}]{claim}"
            )
        gain = {n: up.loc[n, "low"] > 0 for n in ("sla_compliance", "wins_per_month") if n in up.index}
        if gain.get("sla_compliance") and not gain.get("wins_per_month", True):
            out.append("  The verified gain is in the SLA only: the wins' interval includes no gain.")
        return out

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        """The ``summary`` as an HTML table (notebooks)."""
        from html import escape

        c = self.constraints
        rows = []
        for key, (label, fmt) in FIGURE_LABELS.items():
            if key not in self.expected:
                continue
            e = self.expected[key]
            interval = f"{_fmt(fmt, e.low)} to {_fmt(fmt, e.high)}" if e.low is not None and e.high is not None else ""
            now = _fmt(fmt, self.current[key].value) if self.current and key in self.current else ""
            cells = [label, _fmt(fmt, e.value), interval] + ([now] if self.current else [])
            rows.append(
                "<tr>"
                + "".join(
                    f"<td style='text-align:{'left' if i == 0 else 'right'}'>{escape(v)}</td>"
                    for i, v in enumerate(cells)
                )
                + "</tr>"
            )
        head = ["", "recommended", "interval"] + (["current rules"] if self.current else [])
        header = "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr>"
        notes = []
        if c.get("feasible") is False:
            notes.append("No threshold meets the SLA target with this team: this is the best-served one.")
        v = self.verification
        if v is not None and len(v):
            from calibrate.verification import arm_rows

            v = arm_rows(v)
            notes.append(
                f"Verified in simulation ({len(v)} seeds): SLA met "
                f"{v['sla_compliance'].mean():.1%}, wins a month "
                f"{v['wins_per_month'].mean():,.1f}."
            )
        notes.append(f"History {self.data_fingerprint[:19]}..., seed {self.seed}, leadfunnel {self.package_version}.")
        hours, target = c.get("sla_hours", float("nan")), c.get("sla_target", float("nan"))
        return (
            f"<div><b>Recommended MQL threshold: {self.threshold:g}</b> (objective: "
            f"{escape(self.objective)})<br>Team of {escape(str(c.get('reps')))} reps; SLA: first "
            f"touch within {hours:g} {escape(str(c.get('sla_clock')))} hours "
            f"for {target:.0%} of MQLs"
            f"<table>{header}{''.join(rows)}</table>"
            + "".join(f"<small>{escape(n)}</small><br>" for n in notes)
            + "</div>"
        )

    def __repr__(self) -> str:
        e = self.expected
        sla = e.get("sla_compliance", Estimate(None)).value
        return (
            f"Recommendation(threshold={self.threshold:g}, objective={self.objective!r}, "
            f"mqls_per_month={_fmt('{:,.0f}', e.get('mqls_per_month', Estimate(None)).value)}, "
            f"sla_compliance={_fmt('{:.1%}', sla)})"
        )

    def plot_frontier(self, ax=None, **kwargs):
        """The trade-off frontier with the recommendation marked (see ``calibrate.plotting``)."""
        from calibrate.plotting import plot_frontier

        source = self.tradeoffs if self.tradeoffs is not None else self.frontier
        if source is None:
            raise ValueError("this recommendation has no trade-off table to plot")
        kwargs.setdefault("current", self.constraints.get("current_threshold"))
        kwargs.setdefault("currency", self.currency)
        if self.tradeoffs is None:
            kwargs.setdefault("sla_target", self.constraints.get("sla_target"))
        return plot_frontier(source, recommended=self.threshold, ax=ax, **kwargs)

    def report(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the one-page sign-off report (self-contained HTML, see ``calibrate.report``)."""
        from calibrate.report import write_report

        return write_report(self, path, overwrite=overwrite)

    # --- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The recommendation as plain data (what ``to_json`` writes)."""
        out = {
            "format": FORMAT,
            "package_version": self.package_version,
            "seed": int(self.seed),
            "data_fingerprint": self.data_fingerprint,
            "history": self.history,
            "objective": self.objective,
            "constraints": self.constraints,
            "rules": self.rules.to_dict(),
            "threshold": float(self.threshold),
            "expected": {k: f.to_dict() for k, f in self.expected.items()},
        }
        if self.current is not None:
            out["current"] = {k: f.to_dict() for k, f in self.current.items()}
        if self.uplift is not None:
            out["uplift"] = {k: f.to_dict() for k, f in self.uplift.items()}
        if self.inputs is not None:
            out["inputs"] = [{k: str(v) for k, v in row.items()} for row in self.inputs.to_dict("records")]
        if self.monitor_reference is not None:
            out["monitor_reference"] = self.monitor_reference
        from calibrate.report_data import compact_frontier, verification_summary

        out["currency"] = self.currency
        if self.data_quality is not None:
            out["data_quality"] = self.data_quality
        if self.model_checks is not None:
            out["model_checks"] = self.model_checks
        table = self.tradeoffs.table if self.tradeoffs is not None else self.frontier
        if table is not None:
            out["frontier"] = compact_frontier(table)
        verified = verification_summary(self.verification) or self.verified
        if verified is not None:
            out["verification"] = verified
        if self.routing is not None:
            out["routing"] = self.routing
        return out

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The config as JSON text, validated; also written atomically to ``path`` if given."""
        data = self.to_dict()
        _validate(data, "recommendation")
        _check_consistency(data, "recommendation")
        text = json.dumps(data, indent=2, sort_keys=False, allow_nan=False)
        if path is not None:
            write_text_atomic(path, text + "\n")
        return text

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike) -> Recommendation:
        """Read a config written by ``to_json``; a file that fails the schema is refused."""
        if isinstance(path_or_text, str) and path_or_text.lstrip().startswith("{"):
            text, source = path_or_text, "recommendation JSON"
        else:
            source = str(path_or_text)
            try:
                text = Path(path_or_text).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise RecommendationError(f"{source}: file does not exist") from None
            except UnicodeDecodeError as exc:
                raise RecommendationError(f"{source}: not UTF-8 text ({exc.reason})") from None
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as exc:
            raise RecommendationError(f"{source}: not valid JSON ({exc})") from None
        except RecursionError:
            raise RecommendationError(f"{source}: not valid JSON (nested too deeply)") from None
        except ValueError as exc:
            raise RecommendationError(f"{source}: {exc}") from None
        if isinstance(data, dict) and data.get("format") not in SUPPORTED_FORMATS:
            raise RecommendationError(
                f"{source}: format {data.get('format')!r} is not one this version reads "
                f"({', '.join(SUPPORTED_FORMATS)}); it may come from a newer leadfunnel"
            )
        _validate(data, source)
        _check_consistency(data, source)
        from calibrate.report_data import frontier_frame

        try:
            rules = ScoringRules.from_dict(data["rules"], source=f"{source}: rules")
        except SpecError as exc:
            raise RecommendationError(str(exc)) from None
        return cls(
            rules=rules,
            threshold=float(data["threshold"]),
            objective=data["objective"],
            constraints=dict(data["constraints"]),
            expected={k: Estimate(**v) for k, v in data["expected"].items()},
            current={k: Estimate(**v) for k, v in data["current"].items()} if "current" in data else None,
            uplift={k: Estimate(**v) for k, v in data["uplift"].items()} if "uplift" in data else None,
            seed=int(data["seed"]),
            data_fingerprint=data["data_fingerprint"],
            package_version=data["package_version"],
            history=dict(data.get("history", {})),
            inputs=pd.DataFrame(data["inputs"], columns=["input", "value", "basis"]) if "inputs" in data else None,
            monitor_reference=data.get("monitor_reference"),
            currency=data.get("currency", "USD"),
            data_quality=data.get("data_quality"),
            model_checks=data.get("model_checks"),
            frontier=frontier_frame(data["frontier"]) if "frontier" in data else None,
            verified=data.get("verification"),
            routing=_routing(data.get("routing"), source),
        )


def _routing(data: dict | None, source: str) -> dict | None:
    """A config's routing record, checked by reading it as a policy."""
    if data is None:
        return None
    from calibrate.policy_tournament import routing_policy

    try:
        routing_policy(data)
    except (SpecError, ValueError) as exc:
        raise RecommendationError(f"{source}: {exc}") from None
    return dict(data)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a config may hold (JSON has no {name})")


def _check_consistency(data: dict, source: str) -> None:
    from calibrate.config_checks import config_problem

    problem = config_problem(data)
    if problem is not None:
        raise RecommendationError(f"{source}: {problem}")


def _validate(data: Any, source: str) -> None:
    import jsonschema  # deferred: with its format checkers it takes seconds to import

    validator = jsonschema.Draft202012Validator(schema())
    try:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    except RecursionError:
        raise RecommendationError(f"{source}: nested too deeply to be a config") from None
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise RecommendationError(f"{source}: key {where!r} fails the schema: {e.message}")


class _Thousands:
    """A signed amount in thousands (``-202k``), as a format with ``format``."""

    def format(self, value) -> str:
        return f"{value / 1e3:+,.0f}k"


def _short(fmt: str, value) -> str:
    """A figure for the summary: large amounts in thousands (``1,221k``)."""
    if value is not None and np.isfinite(value) and abs(value) >= 1e5 and fmt == "{:,.0f}":
        return f"{value / 1e3:,.0f}k"
    return _fmt(fmt, value)


def _range(fmt: str, low, high) -> str:
    if low is None or high is None:
        return ""
    return f"{_short(fmt, low)}-{_short(fmt, high)}"


def _fmt(fmt: str, value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return fmt.format(value)
