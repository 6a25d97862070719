"""``monitor``: a new month against the config in force, and the answer, keep or re-tune.

Run each month on the new export (leads created since the config, with their events where
there are any) and the config ``recommend`` wrote:

1. drift: population stability (``calibrate.monitor_reference.psi``) of every column the
   points read, of the lead source and of the score, on the latest whole month's leads at
   their decision moment, against the training data; bands below 0.1 (stable), 0.1 to 0.25
   (a shift), above 0.25 (a major shift);
2. honesty: the score's ROC AUC and calibration (observed over expected wins, the expected
   from the config's win rate per score bin) on the new leads whose outcome is known
   (``make_labels`` with the config's horizon), with 95% intervals, against the config's;
   lost when the AUC's interval lies below the config's, or the wins surely fall short of
   the promise by ``CALIBRATION_SLACK``;
3. volume: the latest month's MQLs against the training months' range, and next month's
   forecast (``calibrate.monitor_forecast``);
4. SLA risk: the chance that the threshold in force breaks the SLA next month with the team
   as it is and with a planned change (``calibrate.monitor_risk``);
5. the answer: ``"re-tune"`` when that chance exceeds ``alarm_risk``, else ``"keep"``; with
   the re-tuned threshold and what it changes (``calibrate.monitor_retune``). Drift alone
   does not raise the alarm: a campaign shifts the lead mix every time, and what matters is
   whether the team can serve what comes. Nor does a loss of honesty: it is said, with the
   advice to re-fit the points (the threshold alone does not mend it).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from calibrate.capacity import SLA_CONFIDENCE
from calibrate.monitor_forecast import PlannedCampaign, VolumeForecast, forecast_mqls
from calibrate.monitor_reference import (
    auc_interval,
    decision_moments,
    monitored_columns,
    monitored_values,
    monthly_mqls,
    mql_moments,
    psi,
)
from calibrate.monitor_retune import Retune, retune_threshold, win_chance
from calibrate.monitor_risk import SlaRisk, active_reps, capacity_of, sla_risk
from calibrate.recommendation import Recommendation, RecommendationError

__all__ = ["ALARM_RISK", "MIN_WINS", "MonitorReport", "monitor", "psi_band"]

ALARM_RISK = 0.3
"""Re-tune when the chance of breaking the SLA next month is above this. Set on the
backtest's stationary years (``python -m bench.bench_monitor --seeds 5``, seeds 0 to 4):
the 95th percentile of their months' chances was 26%; 0.3 leaves a margin above it."""

CALIBRATION_SLACK = 0.2
"""The score has lost its calibration when the new leads' observed over expected wins is
surely (95%) below ``1 - CALIBRATION_SLACK``: fewer wins than promised by a fifth or more."""

MIN_WINS = 20
"""Honesty is judged only with at least this many judged wins among the new leads."""


def psi_band(value: float) -> str:
    """The usual reading of a PSI: stable below 0.1, a shift to 0.25, a major shift above."""
    return "stable" if value < 0.1 else "shift" if value < 0.25 else "major shift"


@dataclass(frozen=True, slots=True, eq=False)
class MonitorReport:
    """What ``monitor`` found (module docstring); ``summary()`` prints it in 80 columns."""

    month: str
    decision: str
    reasons: list[str]
    threshold: float
    drift: pd.DataFrame
    drift_leads: int
    honesty: dict
    volume: dict
    forecast: VolumeForecast
    risk: SlaRisk
    planned_risk: SlaRisk | None
    retune: Retune
    alarm_risk: float
    point_in_time: bool
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """The report as text, 80 columns wide."""
        from calibrate.monitor_text import report_lines

        return "\n".join(report_lines(self))

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict:
        """The report as plain data (JSON-ready)."""
        risk = {"as_is": _risk_dict(self.risk)}
        if self.planned_risk is not None:
            risk["planned"] = _risk_dict(self.planned_risk)
        return {
            "month": self.month,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "threshold": self.threshold,
            "alarm_risk": self.alarm_risk,
            "point_in_time": self.point_in_time,
            "drift_leads": self.drift_leads,
            "drift": [{"column": r.column, "psi": float(r.psi), "band": r.band} for r in self.drift.itertuples()],
            "honesty": {k: _plain(v) for k, v in self.honesty.items()},
            "volume": {k: _plain(v) for k, v in self.volume.items()},
            "forecast": {k: _plain(v) for k, v in dataclasses.asdict(self.forecast).items()},
            "sla_risk": risk,
            "retune": {
                "threshold": self.retune.threshold,
                "feasible": self.retune.feasible,
                "changes": self.retune.table.to_dict("records"),
            },
            "notes": list(self.notes),
        }

    def plot(self, ax=None, **kwargs):
        """The SLA compliance against next month's MQLs, forecast marked
        (``calibrate.plotting.plot_monitor``)."""
        from calibrate.plotting import plot_monitor

        return plot_monitor(self, ax=ax, **kwargs)


def _risk_dict(r: SlaRisk) -> dict:
    return {
        "reps": r.reps,
        "chance_of_breach": r.chance_of_breach,
        "sla_compliance": r.compliance,
        "breaking_mqls": _plain(r.breaking_mqls),
    }


def _plain(v):
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not np.isfinite(v):
        return None
    return v


def _config(config) -> Recommendation:
    if isinstance(config, Recommendation):
        rec = config
    elif isinstance(config, str | os.PathLike):
        rec = Recommendation.from_json(config)
    else:
        raise TypeError(f"monitor: config must be a Recommendation or a config JSON path, got {config!r}")
    if rec.monitor_reference is None:
        raise RecommendationError(
            "the config has no key 'monitor_reference' (written by recommend since leadfunnel "
            "0.x; a two-axis rule has none): run recommend again to monitor it"
        )
    return rec


def _check_columns(history, rules) -> None:
    leads = history.leads
    for column in ("created_at", *rules.columns):
        if column not in leads.columns:
            label = history.column_label(column)
            raise ValueError(
                f"{history.source}: the new history lacks column {label!r}, which the config's points read"
            )


def _config_as_of(rec: Recommendation) -> pd.Timestamp | None:
    """When the config's history was taken (its new leads come after), if it says."""
    at = (rec.history or {}).get("as_of")
    if at in (None, "None", "NaT"):
        return None
    at = pd.Timestamp(at)
    return at.tz_localize("UTC") if at.tzinfo is None else at


def _honesty(new, rules, reference: dict, since: pd.Timestamp | None) -> dict:
    """AUC and observed/expected wins on the judged new leads (created after ``since``),
    with 95% intervals."""
    from calibrate.diagnostics import roc_auc
    from calibrate.labels import make_labels

    model = reference["model"]
    out = {"auc_config": model["auc"], "auc_config_low": model["auc_low"], "auc_config_high": model["auc_high"]}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = make_labels(new, horizon_days=reference["horizon_days"], features=list(rules.columns))
    except ValueError:  # no judged lead yet
        return out | {"judged": 0, "wins": 0, "broken": False}
    fresh = np.ones(len(labels.y), dtype=bool) if since is None else (labels.created_at >= since).to_numpy()
    y = labels.y[fresh].astype(float)
    score = rules.score(labels.X[fresh])
    wins, judged = int(y.sum()), int(y.size)
    out |= {"judged": judged, "wins": wins, "broken": False}
    if wins < MIN_WINS or judged - wins < MIN_WINS:
        return out
    auc = roc_auc(y, score)
    low, high = auc_interval(auc, wins, judged - wins)
    expected = float(win_chance(score, model["calibration"]).sum())
    ratio = wins / expected if expected > 0 else float("nan")
    half = 1.96 * np.sqrt(wins) / expected if expected > 0 else float("nan")
    out |= {"auc": auc, "auc_low": low, "auc_high": high, "observed_over_expected": ratio}
    out |= {"oe_low": max(0.0, ratio - half), "oe_high": ratio + half, "expected_wins": expected}
    clearly_lower = model["auc_low"] is not None and high < model["auc_low"]
    out["broken"] = bool(clearly_lower or ratio + half < 1.0 - CALIBRATION_SLACK)
    return out


def monitor(
    config,
    new_history,
    *,
    campaigns: Sequence[PlannedCampaign] = (),
    team_change: int = 0,
    alarm_risk: float = ALARM_RISK,
    sla_confidence: float = SLA_CONFIDENCE,
    seed: int = 0,
) -> MonitorReport:
    """Monitor the latest whole month of ``new_history`` against the config in force.

    Parameters
    ----------
    config : a ``Recommendation`` or the path of its JSON config (with its
        ``monitor_reference``).
    new_history : a ``History``, a lead table, a CSV path or a ``simulate.run`` result: the
        leads since the config (the latest whole calendar month is the one monitored; the
        earlier ones give the level of the forecast and the outcomes for honesty).
    campaigns : ``PlannedCampaign`` s of next month.
    team_change : reps next month beyond the team as it is (``-1``: one leaves; ``2``: two
        hires); the risk is given with and without it.
    alarm_risk : re-tune when the chance of breaking the SLA next month is above this.
    sla_confidence : the re-tuned threshold meets the SLA target with this chance.
    seed : seeds the thinning of the re-tune's leads.
    """
    from calibrate.inputs import as_history

    rec = _config(config)
    if not 0 < alarm_risk < 1:
        raise ValueError(f"monitor: alarm_risk must be in (0, 1), got {alarm_risk!r}")
    reference, rules = rec.monitor_reference, rec.rules
    new = as_history(new_history)
    _check_columns(new, rules)
    since = _config_as_of(rec)
    months = monthly_mqls(new, rules)
    if since is not None:
        months = months[(months["month"].dt.start_time >= since.tz_convert("UTC").tz_localize(None)).to_numpy()]
    if not len(months):
        raise ValueError(
            f"{new.source}: the new history holds no whole calendar month after the config's "
            f"history (it runs to {new.as_of}; the config's history to {since})"
        )
    month = months["month"].iloc[-1]
    drift, n_drift = _drift(new, rules, reference, month)
    honesty = _honesty(new, rules, reference, since)
    share = _campaign_share(reference)
    forecast = forecast_mqls(
        reference["volume"],
        months,
        campaigns=campaigns,
        campaign_mql_share=share,
        in_month_share=reference["volume"].get("campaign_in_month_share", 1.0),
        mql_days=reference["volume"].get("campaign_mql_days", ()),
    )
    capacity = capacity_of(reference)
    mql = mql_moments(new, rules)
    in_month = (mql.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M") == month).to_numpy()
    handoff = mql[in_month]
    seen_reps = active_reps(new.leads, new.as_of)
    reps = capacity.team.size if seen_reps is None or seen_reps == 0 else min(seen_reps, capacity.team.size)
    sd = reference.get("sla_compliance_sd_month")
    risk = sla_risk(handoff, month, capacity, forecast, reps=reps, sd_month=sd, seed=seed)
    planned = None
    if team_change:
        planned = sla_risk(handoff, month, capacity, forecast, reps=max(1, reps + team_change), sd_month=sd, seed=seed)
    X, at = decision_moments(new, rules)
    chosen = (at.dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M") == month).to_numpy()
    retune = retune_threshold(
        rules.score(X[chosen]),
        at[chosen],
        month,
        current_threshold=float(rules.mql_threshold),
        forecast_mqls=forecast.mqls,
        capacity=capacity.with_reps((planned or risk).reps),
        calibration=reference["model"]["calibration"],
        sd_month=sd if sd is not None else 0.03,
        confidence=sla_confidence,
        rng=np.random.default_rng(seed),
    )
    reasons = _reasons(risk, planned, honesty, alarm_risk, reps, capacity.team.size)
    observed = int(months["mqls"].iloc[-1])
    vol = reference["volume"]
    volume = {
        "mqls": observed,
        "campaign_mqls": int(months["campaign_mqls"].iloc[-1]),
        "config_low": vol.get("mqls_per_month_low"),
        "config_high": vol.get("mqls_per_month_high"),
    }
    notes = (
        []
        if new.events is not None or new.counts_at == "decision"
        else ["the export's counts are end totals, not what each decision knew: drift of the counts is overstated"]
    )
    return MonitorReport(
        month=str(month),
        decision="re-tune" if any(r.startswith("!") for r in reasons) else "keep",
        reasons=[r.lstrip("!") for r in reasons],
        threshold=float(rules.mql_threshold),
        drift=drift,
        drift_leads=n_drift,
        honesty=honesty,
        volume=volume,
        forecast=forecast,
        risk=risk,
        planned_risk=planned,
        retune=retune,
        alarm_risk=float(alarm_risk),
        point_in_time=new.events is not None or new.counts_at == "decision",
        notes=notes,
    )


def _drift(new, rules, reference: dict, month: pd.Period) -> tuple[pd.DataFrame, int]:
    """PSI of every monitored column and of the score, on the month's judgeable leads."""
    X, _ = decision_moments(new, rules)
    created = X["created_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    X = X[(created == month).to_numpy()].reset_index(drop=True)
    if not len(X):
        raise ValueError(f"{new.source}: no lead of {month} is old enough to judge its drift")
    rows = [("score", psi(reference["score"], pd.Series(rules.score(X)))[0])]
    for column in monitored_columns(rules, X):
        if column in reference["features"]:
            rows.append((column, psi(reference["features"][column], monitored_values(X, column))[0]))
    table = pd.DataFrame(rows, columns=["column", "psi"]).sort_values("psi", ascending=False, ignore_index=True)
    table["band"] = [psi_band(v) for v in table["psi"]]
    return table, len(X)


def _campaign_share(reference: dict) -> float:
    vol = reference["volume"]
    leads = vol.get("campaign_leads")
    return float(sum(vol["campaign_mqls"]) / leads) if leads else 0.0


def _reasons(risk, planned, honesty, alarm_risk, reps, team_size) -> list[str]:
    """Why the answer is what it is; an alarm's reasons start with ``!``."""
    out = []
    for label, r in (("with the team as it is", risk), ("with the planned team", planned)):
        if r is None:
            continue
        mark = "!" if r.chance_of_breach > alarm_risk else ""
        out.append(
            f"{mark}chance of breaking the SLA next month {label} ({r.reps} reps): "
            f"{r.chance_of_breach:.0%} (alarm above {alarm_risk:.0%})"
        )
    if reps < team_size:
        out.append(f"{team_size - reps} of the config's {team_size} reps touched no lead in the last 14 days")
    if honesty.get("broken"):
        out.append(
            "the score is less honest than the config says (AUC or calibration, see above): "
            "its promised wins are too high; re-fit the points on the longer history (recommend)"
        )
    return out
