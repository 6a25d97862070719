"""``Recommendation``: the chosen points and threshold, what they are expected to give, as JSON.

The JSON config is versioned (``format``), records the package version, the seed and a
fingerprint of the history it came from, and is validated against the JSON schema shipped
with the package (``calibrate/recommendation.schema.json``) both when written and when read.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import metadata
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulate.atomic import write_text_atomic
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
    "revenue_lost_per_month": ("revenue lost to slow response", "{:,.0f}"),
    "reps_needed": ("reps needed for the SLA", "{:,.0f}"),
}


class RecommendationError(ValueError):
    """A recommendation file that cannot be used; the message names the file and the key."""


def package_version() -> str:
    """The installed leadfunnel version (written into every config)."""
    try:
        return metadata.version("leadfunnel")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


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
    """An expected figure with its interval (``None`` where there is none)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    def to_dict(self) -> dict:
        """The estimate as plain data (non-finite numbers as ``None``)."""
        return {"value": _num(self.value), "low": _num(self.low), "high": _num(self.high)}


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

    # --- text ---------------------------------------------------------------------------
    def summary(self) -> str:
        """A one-screen text summary: the threshold and the figures against the current rules."""
        c = self.constraints
        lines = [
            f"Recommended MQL threshold: {self.threshold:g} (objective: {self.objective})",
            f"Team of {c['reps']} reps; SLA: first touch within {c['sla_hours']:g} {c['sla_clock']} "
            f"hours for {c['sla_target']:.0%} of MQLs",
            "",
        ]
        rows = []
        for key, (label, fmt) in FIGURE_LABELS.items():
            if key not in self.expected:
                continue
            e = self.expected[key]
            cell = _fmt(fmt, e.value)
            if e.low is not None and e.high is not None:
                cell += f"  [{_fmt(fmt, e.low)} to {_fmt(fmt, e.high)}]"
            now = ""
            if self.current and key in self.current:
                now = _fmt(fmt, self.current[key].value)
            rows.append((label, cell, now))
        head = ("", "recommended", "current rules" if self.current else "")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
        for r in [head, *rows]:
            lines.append("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if self.verification is not None and len(self.verification):
            v = self.verification
            lines += [
                "",
                f"Verified in simulation ({len(v)} seeds): SLA met "
                f"{v['sla_compliance'].mean():.1%}, wins a month {v['wins_per_month'].mean():,.1f}",
            ]
        lines += ["", f"History {self.data_fingerprint[:19]}..., seed {self.seed}, leadfunnel {self.package_version}"]
        return "\n".join(lines)

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

        if self.tradeoffs is None:
            raise ValueError("this recommendation was read from a file: it has no trade-off table to plot")
        return plot_frontier(self.tradeoffs, recommended=self.threshold, ax=ax, **kwargs)

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
        return out

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The config as JSON text, validated; also written atomically to ``path`` if given."""
        data = self.to_dict()
        _validate(data, "recommendation")
        text = json.dumps(data, indent=2, sort_keys=False)
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
        except ValueError as exc:
            raise RecommendationError(f"{source}: {exc}") from None
        if isinstance(data, dict) and data.get("format") not in SUPPORTED_FORMATS:
            raise RecommendationError(
                f"{source}: format {data.get('format')!r} is not one this version reads "
                f"({', '.join(SUPPORTED_FORMATS)}); it may come from a newer leadfunnel"
            )
        _validate(data, source)
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
            seed=int(data["seed"]),
            data_fingerprint=data["data_fingerprint"],
            package_version=data["package_version"],
            history=dict(data.get("history", {})),
        )


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a config may hold (JSON has no {name})")


def _validate(data: Any, source: str) -> None:
    import jsonschema  # deferred: with its format checkers it takes seconds to import

    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise RecommendationError(f"{source}: key {where!r} fails the schema: {e.message}")


def _fmt(fmt: str, value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    return fmt.format(value)
