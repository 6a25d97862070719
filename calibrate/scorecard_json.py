"""A fitted ``Scorecard`` as a JSON file and back, without pickle.

``scorecard_to_json(card, path)`` writes the estimator's parameters and its whole fitted
state (the criteria with their binnings, effects and weights, the intercept, the
monotonicity evidence, the rules); ``scorecard_from_json(path)`` rebuilds a card that gives
the same points and the same predictions, to the last bit. The state is written as tagged
plain JSON (arrays with their dtype and shape, non-finite floats as strings), so nothing
in the file is executed when it is read, and only the package's own classes are built.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from calibrate._binning import CategoryBinning, NumericBinning
from calibrate.scorecard import Criterion, Scorecard
from simulate.atomic import write_text_atomic
from simulate.output_folder import package_version
from simulate.rules import ScoringRules

FORMAT = "leadfunnel.scorecard/1"
_CLASSES = {cls.__name__: cls for cls in (Criterion, NumericBinning, CategoryBinning)}


class ScorecardFileError(ValueError):
    """A scorecard file that cannot be read; the message names the file and the key."""


def _float(x: float):
    return x if np.isfinite(x) else {"$f": repr(float(x))}


def _encode(v):
    if v is None or isinstance(v, bool | str):
        return v
    if isinstance(v, int | np.integer) and not isinstance(v, np.bool_):
        return {"$np": np.asarray(v).dtype.str, "v": int(v)} if isinstance(v, np.integer) else v
    if isinstance(v, float | np.floating):
        f = _float(float(v))
        return {"$np": np.asarray(v).dtype.str, "v": f} if isinstance(v, np.floating) else f
    if isinstance(v, np.bool_):
        return {"$np": "|b1", "v": bool(v)}
    if isinstance(v, np.ndarray):
        flat = v.ravel().tolist()
        data = [_float(x) if isinstance(x, float) else x for x in flat] if v.dtype.kind != "O" else flat
        return {"$nd": v.dtype.str if v.dtype.kind != "O" else "O", "shape": list(v.shape), "data": data}
    if isinstance(v, tuple):
        return {"$tuple": [_encode(x) for x in v]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if isinstance(v, dict):
        return {"$dict": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if isinstance(v, pd.DataFrame):
        return {"$df": [[str(c), _encode(v[c].to_numpy())] for c in v.columns]}
    if isinstance(v, ScoringRules):
        return {"$rules": v.to_dict()}
    if dataclasses.is_dataclass(v) and type(v).__name__ in _CLASSES:
        fields = {f.name: _encode(getattr(v, f.name)) for f in dataclasses.fields(v)}
        return {"$dc": type(v).__name__, "fields": fields}
    raise TypeError(f"cannot write a {type(v).__name__} into a scorecard file")


def _decode(v):
    if not isinstance(v, dict | list):
        return v
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if "$f" in v:
        return float(v["$f"])
    if "$np" in v:
        return np.dtype(v["$np"]).type(_decode(v["v"]))
    if "$nd" in v:
        data = [_decode(x) for x in v["data"]]
        dtype = object if v["$nd"] == "O" else np.dtype(v["$nd"])
        return np.array(data, dtype=dtype).reshape(v["shape"])
    if "$tuple" in v:
        return tuple(_decode(x) for x in v["$tuple"])
    if "$dict" in v:
        return {_hashable(_decode(k)): _decode(x) for k, x in v["$dict"]}
    if "$df" in v:
        return pd.DataFrame({c: _decode(x) for c, x in v["$df"]})
    if "$rules" in v:
        return ScoringRules.from_dict(v["$rules"], source="scorecard file: rules_")
    if "$dc" in v:
        cls = _CLASSES.get(v["$dc"])
        if cls is None:
            raise ScorecardFileError(f"unknown class {v['$dc']!r}")
        return cls(**{k: _decode(x) for k, x in v["fields"].items()})
    raise ScorecardFileError(f"unknown entry with keys {sorted(v)}")


def _hashable(k):
    return tuple(k) if isinstance(k, list) else k


def scorecard_to_json(card: Scorecard, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Write a fitted ``card`` to ``path`` (refusing an existing file unless ``overwrite``)."""
    if not hasattr(card, "criteria_"):
        raise ValueError("scorecard_to_json needs a fitted Scorecard (call fit first)")
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists (pass overwrite=True to replace it)")
    state = {k: _encode(v) for k, v in vars(card).items() if k.endswith("_") or k.startswith("_")}
    data = {
        "format": FORMAT,
        "package_version": package_version(),
        "params": _encode(card.get_params()),
        "state": state,
    }
    write_text_atomic(path, json.dumps(data, allow_nan=False) + "\n")
    return path


def scorecard_from_json(path: str | os.PathLike) -> Scorecard:
    """Read a card written by ``scorecard_to_json``."""
    source = str(path)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScorecardFileError(f"{source}: file does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScorecardFileError(f"{source}: not a JSON scorecard ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ScorecardFileError(f"{source}: format {got!r} is not {FORMAT!r}")
    for key in ("params", "state"):
        if not isinstance(data.get(key), dict) or "$dict" not in data[key] and key == "params":
            raise ScorecardFileError(f"{source}: key {key!r} is missing or not an object")
    card = Scorecard(**_decode(data["params"]))
    for key, value in data["state"].items():
        try:
            setattr(card, key, _decode(value))
        except (TypeError, ValueError, KeyError) as exc:
            raise ScorecardFileError(f"{source}: key 'state/{key}': {exc}") from None
    return card
