"""Input checks of ``Scorecard``: the feature table, the outcome, the weights, each column's kind.

Arrays go through scikit-learn's own ``check_array`` (its messages for a sparse matrix, a
table that is not 2-D, complex numbers, no rows or no columns); a DataFrame is kept as it is,
column by column, and only an empty one is handed to ``check_array`` for its message. What
scikit-learn has no tool for is checked here with messages that name the column and the row:
a text cell in a numeric column, a column of timestamps, a negative weight, an outcome missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_array, column_or_1d


def as_frame(X, estimator) -> pd.DataFrame:
    """``X`` as a DataFrame of at least one row and one column, checked by ``check_array``."""
    if isinstance(X, pd.DataFrame):
        if 0 in X.shape:  # scikit-learn's message; converting an empty table costs nothing
            check_array(X, dtype=None, ensure_all_finite=False, estimator=estimator)
        return X
    return pd.DataFrame(check_array(X, accept_sparse=False, dtype=None, ensure_all_finite=False, estimator=estimator))


def feature_names(estimator, frame: pd.DataFrame) -> list[str]:
    """The names of the columns: ``feature_names_in_`` if ``X`` had names, else ``x0, x1, ...``."""
    if hasattr(estimator, "feature_names_in_"):
        return [str(c) for c in estimator.feature_names_in_]
    return [f"x{j}" for j in range(frame.shape[1])]


def binary_target(y, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The two classes and ``1.0`` where ``y`` is the second (the win), ``0.0`` elsewhere."""
    y = column_or_1d(y, warn=True)
    if len(y) != n:
        raise ValueError(f"X has {n} rows but y has {len(y)}")
    if pd.isna(pd.Series(y, dtype=object)).any():
        raise ValueError("Input y contains NaN; every lead needs an outcome (drop the others)")
    check_classification_targets(y)
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    if y_type != "binary":
        raise ValueError(f"Only binary classification is supported (won or not). The type of the target is {y_type}.")
    classes, y_index = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"Scorecard needs leads of both outcomes; y holds one class only ({classes[0]!r})")
    return classes, (y_index == 1).astype(float)


def sample_weights(sample_weight, n: int) -> np.ndarray:
    """One finite weight >= 0 per row (1 for every row when ``None``)."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight, dtype=float)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.shape != (n,):
        raise ValueError(f"sample_weight must have shape ({n},), got {w.shape}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"sample_weight must be finite and >= 0, got {float(w[i])!r} in row {i}")
    return w


def column_kind(col: pd.Series, name: str) -> str:
    """``"numeric"`` (numbers, booleans) or ``"categorical"`` (text, categories) for one column."""
    dtype = col.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "numeric"
    if (
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        and not pd.api.types.is_object_dtype(dtype)
    ):
        return "categorical"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"Scorecard: column {name!r} holds timestamps; turn it into a number first "
            "(for example days since the lead was created)"
        )
    if pd.api.types.is_numeric_dtype(dtype):
        if np.iscomplexobj(col.to_numpy()):
            raise ValueError("Complex data not supported")
        return "numeric"
    values = col.to_numpy(dtype=object)
    try:
        np.asarray(values, dtype=float)
        return "numeric"
    except ValueError:
        present = values[~pd.isna(values)]
        if all(isinstance(v, str) for v in present):
            return "categorical"
        numeric_values(col, name)  # numbers mixed with text: raises naming the first text cell
        raise
    # a TypeError (a dict, a list...) propagates:
    # "float() argument must be a string or a real number"


def numeric_values(col: pd.Series, name: str) -> np.ndarray:
    """A numeric column as floats (``NaN`` where missing); a text cell raises naming its row."""
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.astype(float).to_numpy(dtype=float, na_value=np.nan)
    try:
        return col.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        values = col.to_numpy(dtype=object)
        for i, v in enumerate(values):
            try:
                float(v)
            except (TypeError, ValueError):
                raise ValueError(f"Scorecard: column {name!r} must be numeric, got {v!r} in row {i}") from None
        raise
