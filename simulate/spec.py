"""Plain-dict conversion for the frozen spec dataclasses (TOML and JSON in and out).

Every spec is a frozen dataclass whose fields are numbers, strings, booleans, tuples of
those, ``dict[str, number]``, other specs, tuples of specs or ``None``. ``to_dict`` turns a
spec into data TOML and JSON can hold; ``from_dict`` is its strict inverse: an unknown key,
a missing table or a value of the wrong type raises one ``SpecError`` naming the full key
path (``arrivals.campaigns[1].days``).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class SpecError(ValueError):
    """A scenario or rules file that cannot be used; the message names the key."""


def to_dict(spec: Any) -> dict[str, Any]:
    """Return the spec as nested plain dicts, lists and scalars (``None`` fields omitted)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(spec):
        value = _plain(getattr(spec, f.name))
        if value is not None:
            out[f.name] = value
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return to_dict(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def from_dict(cls: type[T], data: Any, path: str = "") -> T:
    """Build ``cls`` from nested plain data, refusing unknown keys and wrong types."""
    where = path or cls.__name__
    if not isinstance(data, dict):
        raise SpecError(f"{where}: expected a table of keys, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise SpecError(f"{_join(path, unknown[0])}: unknown key; {cls.__name__} takes {', '.join(fields)}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _convert(hints[name], value, _join(path, name))
    try:
        return cls(**kwargs)
    except SpecError:
        raise
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{where}: {exc}") from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        if value is None and type(None) in args:
            return None
        errors = []
        for option in options:
            try:
                return _convert(option, value, path)
            except SpecError as exc:
                errors.append(str(exc))
        raise SpecError(errors[0])
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, path)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise SpecError(f"{path}: expected a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v, f"{path}[{i}]") for i, v in enumerate(value))
        if len(args) != len(value):
            raise SpecError(f"{path}: expected {len(args)} values, got {len(value)}")
        return tuple(_convert(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if origin is dict:
        if not isinstance(value, dict):
            raise SpecError(f"{path}: expected a table of keys, got {value!r}")
        return {str(k): _convert(args[1], v, _join(path, str(k))) for k, v in value.items()}
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SpecError(f"{path}: expected a number, got {value!r}")
        if isinstance(value, int):
            return float(_whole(value, path))
        if not math.isfinite(value):
            raise SpecError(f"{path}: expected a finite number, got {value!r}")
        return float(value)
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return _whole(int(value), path)
            raise SpecError(f"{path}: expected a whole number, got {value!r}")
        return _whole(value, path)
    if hint is bool:
        if not isinstance(value, bool):
            raise SpecError(f"{path}: expected true or false, got {value!r}")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise SpecError(f"{path}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{path}: unsupported field type {hint!r}")  # a bug in a spec, not in data


MAX_WHOLE = 2**53
"""Whole numbers in a spec file are at most this in size (exact as a float, safe in int64)."""


def _whole(value: int, path: str) -> int:
    if abs(value) > MAX_WHOLE:
        digits = len(str(abs(value)))
        raise SpecError(f"{path}: expected a number of at most 2**53 (about 9e15) in size, got one of {digits} digits")
    return value


def read_text(path, kind: str) -> str:
    """The UTF-8 text of a spec file; a missing file or other bytes name the file."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"{kind} file {path} does not exist") from None
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position "
            f"{exc.start}); save the {kind} as UTF-8"
        ) from None


def parse_table(parse, text: str, source: str, language: str) -> dict:
    """``parse(text)`` (``json.loads`` or ``tomllib.loads``), which must give a table of keys."""
    try:
        data = parse(text)
    except RecursionError:
        raise SpecError(f"{source}: not valid {language} (nested too deeply)") from None
    except ValueError as exc:  # json.JSONDecodeError and tomllib.TOMLDecodeError
        raise SpecError(f"{source}: not valid {language} ({exc})") from None
    return data


def require_table(data: Any, source: str) -> dict:
    """``data`` itself if it is a table of keys (a dict), else one ``SpecError``."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: expected a table of keys, got {type(data).__name__}")
    return data


def check(condition: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``condition``; used by ``__post_init__``."""
    if not condition:
        raise ValueError(message)


def check_shares(owner: str, shares: dict[str, float], *, tol: float = 1e-6) -> None:
    """Shares must be non-negative and add up to 1."""
    check(len(shares) > 0, f"{owner} must name at least one value")
    for key, share in shares.items():
        check(0.0 <= share <= 1.0, f"{owner}.{key} must be in [0, 1], got {share}")
    total = sum(shares.values())
    check(abs(total - 1.0) <= tol, f"{owner} shares must add up to 1, got {total:.6g}")


def check_probability(owner: str, value: float) -> None:
    """Raise ``SpecError`` naming ``owner`` unless ``value`` is a probability in [0, 1]."""
    check(0.0 <= value <= 1.0, f"{owner} must be a probability in [0, 1], got {value}")
