"""Does the monitor warn before the SLA breaks, and stay quiet when nothing changes?

Per seed: a year of the default world (its rules, its two campaigns) is the training
history; ``calibrate.recommend`` (fitted world, analytic SLA model) writes the config. The
next year is simulated with the recommended rules in force (13 months from December, the
first a warm-up), in four versions on the same seed:

* ``stationary``: the same world, the same two campaigns a year later;
* ``source_shift``: from March, more and more referral leads (150 more each month, 1,500 in
  December), not marked as a campaign: the lead mix drifts;
* ``campaign``: a launch campaign of 3,000 webinar leads over ten days from 8 June;
* ``rep_leaving``: one of the four reps leaves on 1 July.

At the end of each month ``m`` the monitor runs on the history as known then
(``calibrate.known_at``), told what a user knows: the campaigns of next month (the
launch in May), and the rep leaving (in June, ``team_change=-1``). The alarm is its
``re-tune``. The SLA breaks in month ``B`` when the share of ``B``'s MQLs touched within
the SLA (the simulated truth, known at the end) is below the target; the alarm comes in
time when it is raised at the end of month ``B - 1`` or ``B - 2`` (``B`` the first break
from the drift's own month on). The stationary years break too, now and then (a campaign
month, a busy spring): an alarm for a next month that met the SLA is a false one; target
at most 1 in 20 such months.

``python -m bench monitor --seeds 5`` (about 80 seconds a seed on one core; seeds 5 to 9,
held out: seeds 0 to 4 set ``calibrate.monitoring.ALARM_RISK``). Run alone,
``python -m bench.bench_monitor --seeds 5 [--first-seed 0]`` also prints the alarm rates
at other alarm levels (how the level was set).
"""

from __future__ import annotations

import argparse
import dataclasses
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import calibrate
import simulate
from bench._table import Row, print_table
from calibrate.known_at import known_at
from calibrate.monitor_forecast import PlannedCampaign
from calibrate.monitoring import ALARM_RISK, monitor

KINDS = ("stationary", "source_shift", "campaign", "rep_leaving")
YEAR2 = "2027"
LAUNCH = simulate.Campaign(
    name="summer launch", start="2027-06-08", days=10, extra_leads=3000.0, source="webinar", intent_shift=0.3
)
LEAVES = "2027-07-01"
FALSE_ALARM_TARGET = 1 / 20
WARN_MONTHS = 2
"""The alarm is in time when raised at the end of one of the this many months before."""


def _a_year_later(campaign: simulate.Campaign) -> simulate.Campaign:
    start = pd.Timestamp(campaign.start) + pd.DateOffset(years=1)
    return dataclasses.replace(campaign, start=str(start.date()))


def _shift_campaigns() -> tuple[simulate.Campaign, ...]:
    out = []
    for month in range(3, 13):
        period = pd.Period(f"{YEAR2}-{month:02d}", freq="M")
        out.append(
            simulate.Campaign(
                name=f"shift {month:02d}",
                start=str(period.start_time.date()),
                days=int(period.days_in_month),
                extra_leads=150.0 * (month - 2),
                source="referral",
            )
        )
    return tuple(out)


def _leaving_team(team: simulate.Team) -> simulate.Team:
    """The team with its last rep off the team (and out of the rotation) from ``LEAVES`` on."""
    reps = [simulate.Rep(name=f"rep_{i + 1:02d}", calendar=team.calendar) for i in range(team.size)]
    reps[-1] = dataclasses.replace(reps[-1], leaves=LEAVES)
    return dataclasses.replace(team, roster=tuple(reps))


def year_two(scenario: simulate.Scenario, rules, kind: str) -> simulate.Scenario:
    """The monitored year of ``kind`` (module docstring), with ``rules`` in force."""
    arrivals = scenario.arrivals
    campaigns = tuple(_a_year_later(c) for c in arrivals.campaigns)
    team = scenario.team
    if kind == "source_shift":
        campaigns += _shift_campaigns()
    elif kind == "campaign":
        campaigns += (LAUNCH,)
    elif kind == "rep_leaving":
        team = _leaving_team(team)
    return scenario.replace(
        start=f"{int(YEAR2) - 1}-12-01",
        months=13,
        rules=rules,
        team=team,
        arrivals=dataclasses.replace(arrivals, campaigns=campaigns),
    )


def _plan(scenario: simulate.Scenario, kind: str, month: pd.Period) -> tuple[list, int]:
    """What the user tells the monitor at the end of ``month``: next month's campaigns
    (the shift is not a campaign) and the team change."""
    nxt = month + 1
    planned = [
        PlannedCampaign(name=c.name, extra_leads=c.extra_leads, start=c.start)
        for c in scenario.arrivals.campaigns
        if pd.Timestamp(c.start).to_period("M") == nxt and not c.name.startswith("shift")
    ]
    change = -1 if kind == "rep_leaving" and nxt == pd.Period(LEAVES[:7], freq="M") else 0
    return planned, change


def _unmarked(result):
    """The run with the source shift's leads not marked as a campaign (an organic drift)."""
    leads = result.leads.copy()
    shift = leads["campaign"].astype("string").str.startswith("shift").fillna(False).to_numpy(bool)
    leads["campaign"] = leads["campaign"].astype("object").where(~shift, None)
    return dataclasses.replace(result, leads=leads)


def sla_by_month(result) -> pd.Series:
    """Share of each month's MQLs touched within the SLA (the simulated truth)."""
    leads = result.leads
    mql = leads[leads["mql_at"].notna()]
    month = mql["mql_at"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    return mql["sla_met"].astype(float).groupby(month.to_numpy()).mean()


def run_seed(seed: int, kinds=KINDS) -> pd.DataFrame:
    """One row per kind and monitored month: the monitor's chances and answer, the truth."""
    base = simulate.Scenario()
    history = calibrate.load_history(simulate.run(base, seed=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rec = calibrate.recommend(history, current_rules=base.rules, simulate_seeds=0, seed=seed)
    rows = []
    for kind in kinds:
        world = year_two(base, rec.rules, kind)
        result = _unmarked(simulate.run(world, seed=seed + 100))
        truth = sla_by_month(result)
        target = world.sla.target
        for m in range(1, 12):
            month = pd.Period(f"{YEAR2}-{m:02d}", freq="M")
            planned, change = _plan(world, kind, month)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = monitor(
                    rec, known_at(result, (month + 1).start_time), campaigns=planned, team_change=change, seed=seed
                )
            chances = [report.risk.chance_of_breach] + (
                [report.planned_risk.chance_of_breach] if report.planned_risk else []
            )
            rows.append(
                {
                    "seed": seed,
                    "kind": kind,
                    "month": m,
                    "chance": max(chances),
                    "honesty_broken": bool(report.honesty.get("broken")),
                    "decision": report.decision,
                    "score_psi": float(report.drift.set_index("column").loc["score", "psi"]),
                    "sla_next": float(truth.get(month + 1, np.nan)),
                    "target": target,
                }
            )
    return pd.DataFrame(rows)


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's interval of a proportion ``k / n``."""
    if n == 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


DRIFT_FROM = {"source_shift": 3, "campaign": int(LAUNCH.start[5:7]), "rep_leaving": int(LEAVES[5:7])}
"""The first month each drift can break the SLA; breaks before it are the year's own."""


def score(frame: pd.DataFrame, alarm_risk: float = ALARM_RISK) -> dict:
    """Alarms in time per drift kind (for the first break from the drift's month on), and
    false alarms on the stationary years (alarms for a next month that met the SLA)."""
    frame = frame.assign(alarm=frame["chance"] > alarm_risk)
    out = {}
    for kind in KINDS[1:]:
        hit = total = 0
        for _, run in frame[frame["kind"] == kind].groupby("seed"):
            run = run.sort_values("month")
            broken = run[(run["sla_next"] < run["target"]) & (run["month"] + 1 >= DRIFT_FROM[kind])]
            if not len(broken):
                continue
            b = int(broken["month"].iloc[0]) + 1  # the first month that breaks
            total += 1
            early = run[(run["month"] >= b - WARN_MONTHS) & (run["month"] <= b - 1)]
            hit += bool(early["alarm"].any())
        out[kind] = (hit, total, frame[frame["kind"] == kind]["seed"].nunique())
    still = frame[frame["kind"] == "stationary"]
    quiet = still[still["sla_next"] >= still["target"]]
    out["false"] = (int(quiet["alarm"].sum()), len(quiet))
    out["stationary_breaks"] = int((still["sla_next"] < still["target"]).sum())
    broke = still[still["sla_next"] < still["target"]]
    out["stationary_warned"] = (int(broke["alarm"].sum()), len(broke))
    return out


def _fraction(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{k}/{n} [95%: {low:.0%}-{high:.0%}]"


def rows(seeds: str = "3", first_seed: str = "5") -> list[Row]:
    """The benchmark's figures on ``seeds`` seeds from ``first_seed`` (by default not those
    0 to 4 the alarm level was set on)."""
    first = int(first_seed)
    return table_rows(pd.concat([run_seed(s) for s in range(first, first + int(seeds))], ignore_index=True))


def table_rows(frame: pd.DataFrame) -> list[Row]:
    """The benchmark's rows of the frame of ``run_seed``s."""
    result = score(frame)
    out = []
    for kind in KINDS[1:]:
        hit, total, runs = result[kind]
        out.append(
            Row(
                figure=f"monitor: alarm before the SLA breaks, {kind}",
                size=f"{runs} years, {total} broke",
                measured=_fraction(hit, total),
                target="every break",
                met=total > 0 and hit == total,
            )
        )
    k, n = result["false"]
    out.append(
        Row(
            figure="monitor: false alarms, stationary months that met the SLA",
            size=f"{n} months",
            measured=_fraction(k, n),
            target=f"<= {FALSE_ALARM_TARGET:.0%}",
            met=k / max(n, 1) <= FALSE_ALARM_TARGET,
        )
    )
    for low, high in ((0.0, 0.1), (0.1, 0.5), (0.5, 1.01)):
        sel = frame[(frame["chance"] >= low) & (frame["chance"] < high) & frame["sla_next"].notna()]
        broke = int((sel["sla_next"] < sel["target"]).sum())
        out.append(
            Row(
                figure=f"monitor: chance of breach {low:.0%}-{min(high, 1):.0%}, months that broke",
                size=f"{len(sel)} months, all kinds",
                measured=_fraction(broke, len(sel)),
                target=f"mean chance {sel['chance'].mean():.0%}" if len(sel) else "",
                met=None
                if not len(sel)
                else wilson(broke, len(sel))[0] <= sel["chance"].mean() <= wilson(broke, len(sel))[1],
            )
        )
    k, n = result["stationary_warned"]
    out.append(
        Row(
            figure="monitor: alarm before a stationary month that broke",
            size=f"{n} months",
            measured=_fraction(k, n),
            target="(shown)",
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_monitor")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=5, help="seeds 0-4 set ALARM_RISK (default 5)")
    parser.add_argument("--save", help="also write the month-by-month rows to this CSV")
    args = parser.parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    frame = pd.concat([run_seed(s) for s in seeds], ignore_index=True)
    if args.save:
        frame.to_csv(args.save, index=False)
    still = frame[frame["kind"] == "stationary"]["chance"]
    print(f"stationary months' chance of breach: 95th percentile {still.quantile(0.95):.0%}, max {still.max():.0%}")
    print(f"{'alarm level':>12}  " + "  ".join(f"{k:>22}" for k in (*KINDS[1:], "false alarms")))
    for level in sorted({0.2, 0.3, ALARM_RISK, 0.5, 0.6}):
        r = score(frame, level)
        cells = [f"{r[k][0]}/{r[k][1]}" for k in KINDS[1:]] + [f"{r['false'][0]}/{r['false'][1]}"]
        print(f"{level:>12.0%}  " + "  ".join(f"{c:>22}" for c in cells))
    print()
    print_table(table_rows(frame))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
