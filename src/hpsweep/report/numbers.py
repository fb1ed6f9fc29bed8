"""Numbers as people read them: the one rule every printed summary, table and label uses.

A value shows `digits` significant digits (DIGITS, 4, for parameters and statistics;
VALUE_DIGITS, 6, for the objective, where two trials a hair apart must not look tied);
integers show whole, since they are counts and sizes; anything that is not a number
(`adam`, `true`) shows as it is. Values arrive as numbers or as the text results.csv
holds, which keeps full precision (as best.yaml does): only what is shown is rounded.

    >>> readable("0.00643140265322056")
    '0.006431'
    >>> readable(0.0981753456, VALUE_DIGITS)
    '0.0981753'
    >>> readable("64"), readable("adam"), readable(1e-5)
    ('64', 'adam', '1e-05')
"""

from __future__ import annotations

import math

DIGITS = 4
VALUE_DIGITS = 6


def readable(value: object, digits: int = DIGITS) -> str:
    """`value` with `digits` significant digits if it is a non-integer number (or its
    text), whole if an integer, as it is otherwise; "" for None."""
    if value is None:
        return ""
    if isinstance(value, bool):  # an int to Python, a flag to the reader
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return str(int(text))
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return value
    else:
        try:
            number = float(value)  # type: ignore[arg-type]  # numpy and torch scalars too
        except (TypeError, ValueError):
            return str(value)
    if not math.isfinite(number):
        return str(number)  # nan, inf, -inf
    return f"{number:.{digits}g}"
