"""The named converters a ``ColumnMapping`` may ask for: CRM text into lead-table values.

``snake_case`` (a label as a category), ``job_level`` (a job title as a seniority),
``email_domain`` (an address as business, personal or disposable) and ``employee_count`` (a
range such as ``"51-200"`` as a number). ``"bool"`` is the parser of true/false columns, in
``calibrate.reading``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["email_domain", "employee_count", "job_level", "snake_case"]


def snake_case(value) -> str:
    """The ``"snake"`` converter: a label as a lead-table category.

    Examples
    --------
    >>> snake_case(" Paid Search "), snake_case("ORGANIC_SEARCH")
    ('paid_search', 'organic_search')
    """
    return re.sub(r"[^0-9a-z]+", "_", str(value).strip().lower()).strip("_")


_LEVELS = (
    ("vp", r"\b(vp|svp|evp|avp|vice[\s-]*president)\b"),
    (
        "c_level",
        r"\b(ceo|cfo|cto|coo|cmo|cio|cro|ciso|cpo|chief|founder|co-?founder|owner|"
        r"president|managing director)\b",
    ),
    ("director", r"\b(director|head)\b"),
    ("manager", r"\b(manager|mgr|lead|supervisor)\b"),
    ("student", r"\b(student|intern|trainee)\b"),
)


def job_level(title) -> str:
    """The ``"job_title"`` converter: vp, c_level, director, manager, student or individual_contributor.

    Examples
    --------
    >>> [job_level(t) for t in ("Co-Founder & CTO", "Head of Growth", "Data Analyst")]
    ['c_level', 'director', 'individual_contributor']
    """
    t = str(title).lower()
    for level, pattern in _LEVELS:
        if re.search(pattern, t):
            return level
    return "individual_contributor"


_PERSONAL = re.compile(
    r"^(gmail|googlemail|yahoo|ymail|hotmail|outlook|live|msn|aol|icloud|me|mac|gmx|web|proton|"
    r"protonmail|mail|yandex|qq|163|126|zoho|comcast|btinternet|orange|free|laposte|libero|rediffmail)\."
)
_DISPOSABLE = re.compile(
    r"^(mailinator|guerrillamail|10minutemail|tempmail|temp-mail|yopmail|trashmail|sharklasers|"
    r"getnada|dispostable|maildrop|throwawaymail|fakeinbox|mintemail)\."
)


def email_domain(address) -> str | None:
    """The ``"email"`` converter: ``business``, ``personal`` or ``disposable`` (missing if no ``@``).

    Examples
    --------
    >>> [email_domain(a) for a in ("ann@acme.io", "ann@gmail.com", "ann@yopmail.com", "n/a")]
    ['business', 'personal', 'disposable', None]
    """
    text = str(address).strip().lower()
    if "@" not in text:
        return None
    domain = text.rsplit("@", 1)[1]
    if _DISPOSABLE.match(domain):
        return "disposable"
    if _PERSONAL.match(domain):
        return "personal"
    return "business"


def employee_count(value):
    """The ``"employees"`` converter: a number, or a range's geometric middle.

    ``"51-200"`` -> 101, ``"1000+"`` -> 1000; numbers pass unchanged, other text is returned
    (without thousands separators) for the number parser to judge.

    Examples
    --------
    >>> [employee_count(v) for v in ("51-200", "1000+", "1,234", 40)]
    [101.0, 1000.0, '1234', 40]
    """
    if value is None or isinstance(value, int | float | np.number):
        return value
    t = str(value).strip().replace(",", "")
    m = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", t)
    if m:
        lo, hi = float(m.group(1)), float(m.group(2))
        return float(round(np.sqrt(max(lo, 1.0) * hi)))
    m = re.fullmatch(r"(\d+)\s*\+", t)
    if m:
        return float(m.group(1))
    return t
