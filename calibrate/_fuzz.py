"""Generated bad scenario TOMLs and config JSONs, for the fuzz test and ``bench.fuzz_loaders``.

Each file starts from a valid one (the default scenario; a small recommendation config)
and gets one to three mutations: a value replaced by a hostile one (``nan``, ``inf``,
``1e300``, a 40-digit integer, text, a list, a table, a date, ``-1``, ``0``), a key
removed or an unknown one added, or the text itself broken (truncated, bytes flipped, a
line duplicated, a BOM, nesting thousands deep). The loader must answer with its own
error (``SpecError``, ``RecommendationError``) or a spec that writes and reads back to
itself; anything else is a finding.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HOSTILE = [
    float("nan"),
    float("inf"),
    -float("inf"),
    1e300,
    -1e300,
    10**40,
    -(10**40),
    2**63,
    1e9,
    1e12,
    -1,
    0,
    0.5,
    1.5,
    True,
    "text",
    "",
    "1500-01-01",
    "2200-01-01",
    "$x^$",
    "=cmd|' /C calc'!A0",
    [],
    [1, 2, 3],
    [[1.0, 2.0]],
    {},
    {"x": 1},
    dt.date(2026, 1, 1),
]


@dataclass
class FuzzCounts:
    """What the loader did with each generated file."""

    files: int = 0
    refused: int = 0
    accepted: int = 0
    findings: list[str] = field(default_factory=list)


def _paths(data, prefix=()):
    """Every key path into nested dicts and lists."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append((*prefix, k))
            out += _paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.append((*prefix, i))
            out += _paths(v, (*prefix, i))
    return out


def _mutate_data(data, rng: np.random.Generator):
    paths = _paths(data)
    if not paths:
        return data
    path = paths[rng.integers(len(paths))]
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    what = rng.integers(4)
    if what == 0 and isinstance(parent, dict):
        del parent[path[-1]]
    elif what == 1 and isinstance(parent, dict):
        parent[f"unknown_{rng.integers(100)}"] = HOSTILE[rng.integers(len(HOSTILE))]
    else:
        parent[path[-1]] = copy.deepcopy(HOSTILE[rng.integers(len(HOSTILE))])
    return data


def _mutate_text(text: str, rng: np.random.Generator) -> bytes:
    raw = text.encode("utf-8")
    what = rng.integers(6)
    if what == 0:
        return raw[: rng.integers(len(raw) + 1)]
    if what == 1:
        b = bytearray(raw)
        for _ in range(rng.integers(1, 5)):
            b[rng.integers(len(b))] = rng.integers(256)
        return bytes(b)
    if what == 2:
        lines = raw.split(b"\n")
        i = rng.integers(len(lines))
        lines.insert(i, lines[i])
        return b"\n".join(lines)
    if what == 3:
        return b"\xef\xbb\xbf" + raw
    if what == 4:
        depth = int(rng.choice([50, 1000, 100_000]))
        return raw + b"\ndeep = " + b"[" * depth + b"]" * depth + b"\n"
    return raw.replace(b"=", b"", 1)


def _toml_value(v) -> str:
    from simulate._toml import _value

    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return _value(v)


def _toml_text(data: dict) -> str:
    """TOML for nested data holding any hostile value (inline tables for everything)."""
    return "\n".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in data.items()) + "\n"


def scenario_files(n: int, seed: int) -> list[bytes]:
    """``n`` mutated scenario TOMLs."""
    from simulate.scenario import Scenario

    base = tomllib.loads(Scenario().to_toml())
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        data = copy.deepcopy(base)
        for _ in range(rng.integers(1, 4)):
            data = _mutate_data(data, rng)
        text = _toml_text(data)
        out.append(_mutate_text(text, rng) if rng.random() < 0.3 else text.encode("utf-8"))
    return out


def config_files(n: int, seed: int) -> list[bytes]:
    """``n`` mutated recommendation configs."""
    from calibrate.recommendation import Estimate, Recommendation
    from simulate.rules import default_rules

    rules = default_rules()
    rec = Recommendation(
        rules=rules,
        threshold=float(rules.mql_threshold),
        objective="revenue",
        constraints={"reps": 4, "sla_hours": 8.0, "sla_clock": "business", "sla_target": 0.9},
        expected={"mqls_per_month": Estimate(120.0, 100.0, 140.0, 90.0, 150.0), "sla_compliance": Estimate(0.93)},
        seed=3,
        data_fingerprint="sha256:" + "0" * 64,
    )
    base = json.loads(rec.to_json())
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        data = copy.deepcopy(base)
        for _ in range(rng.integers(1, 4)):
            data = _mutate_data(data, rng)
        text = json.dumps(data, default=str)
        out.append(_mutate_text(text, rng) if rng.random() < 0.3 else text.encode("utf-8"))
    return out


def _fuzz(files: list[bytes], path: Path, load, own_error: type[Exception], write) -> FuzzCounts:
    """Load each file: ``own_error`` is a refusal; a loaded spec must ``write`` and load back."""
    counts = FuzzCounts()
    for i, raw in enumerate(files):
        path.write_bytes(raw)
        counts.files += 1
        try:
            spec = load(path)
        except own_error:
            counts.refused += 1
            continue
        except Exception as exc:  # noqa: BLE001 - a finding, reported
            counts.findings.append(f"{path.name} {i}: {type(exc).__name__}: {str(exc)[:200]}")
            continue
        counts.accepted += 1
        try:
            again = load(write(spec))
        except Exception as exc:  # noqa: BLE001
            counts.findings.append(f"{path.name} {i}: read, but not written back: {type(exc).__name__}: {exc}")
            continue
        if again.to_dict() != spec.to_dict():
            counts.findings.append(f"{path.name} {i}: does not read back to itself")
    return counts


def fuzz_scenarios(folder: Path, n: int, seed: int = 0) -> FuzzCounts:
    """Load ``n`` generated scenarios: only ``SpecError``, or a scenario that round-trips."""
    from simulate.scenario import Scenario
    from simulate.spec import SpecError

    files = scenario_files(n, seed)
    return _fuzz(files, Path(folder) / "scenario.toml", Scenario.from_toml, SpecError, lambda s: s.to_toml())


def fuzz_configs(folder: Path, n: int, seed: int = 0) -> FuzzCounts:
    """Load ``n`` generated configs: only ``RecommendationError``, or a config that round-trips."""
    from calibrate.recommendation import Recommendation, RecommendationError

    files = config_files(n, seed)
    return _fuzz(
        files, Path(folder) / "config.json", Recommendation.from_json, RecommendationError, lambda r: r.to_json()
    )
