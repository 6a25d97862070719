"""A small TOML writer for spec data (nested dicts of scalars, lists and lists of tables).

Python reads TOML (``tomllib``) but does not write it. Spec data has a simple shape, so a
few lines give readable files (inline arrays, one table per section) that ``tomllib`` reads
back to exactly the same values.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _string(text: str) -> str:
    # JSON escapes are TOML escapes too; TOML also forbids a raw DEL character
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _key(key: str) -> str:
    return key if _BARE.match(key) else _string(key)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return "inf" if v > 0 else "-inf" if v < 0 else "nan"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table_list(v: Any) -> bool:
    return isinstance(v, list | tuple) and len(v) > 0 and all(isinstance(x, dict) for x in v)


def dumps(data: dict[str, Any]) -> str:
    """TOML text for ``data``."""
    lines: list[str] = []
    _table(data, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(data: dict[str, Any], path: list[str], lines: list[str]) -> None:
    simple = {k: v for k, v in data.items() if not isinstance(v, dict) and not _is_table_list(v)}
    for k, v in simple.items():
        lines.append(f"{_key(k)} = {_value(v)}")
    for k, v in data.items():
        sub = [*path, _key(k)]
        if isinstance(v, dict):
            has_values = any(not isinstance(x, dict) for x in v.values())
            if has_values or not v:
                lines += ["", f"[{'.'.join(sub)}]"]
            _table(v, sub, lines)
        elif _is_table_list(v):
            for item in v:
                lines += ["", f"[[{'.'.join(sub)}]]"]
                _table(item, sub, lines)
