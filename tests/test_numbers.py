"""The one rule for shown numbers: 4 significant digits (6 for the objective), integers
whole, text as it is."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hpsweep.report.numbers import VALUE_DIGITS, readable

TABLE = [
    # (value, digits, shown)
    pytest.param(0.00643140265322056, 4, "0.006431", id="float"),
    pytest.param("0.00643140265322056", 4, "0.006431", id="float-text-from-results-csv"),
    pytest.param(0.0981753456, VALUE_DIGITS, "0.0981753", id="objective-6-digits"),
    pytest.param(0.1, 4, "0.1", id="no-trailing-zeros"),
    pytest.param(0.30000000000000004, 4, "0.3", id="binary-noise"),
    pytest.param(1.0, 4, "1", id="whole-float"),
    pytest.param(3.14159e-7, 4, "3.142e-07", id="tiny"),
    pytest.param(123456.7, 4, "1.235e+05", id="large-float"),
    pytest.param(-0.000123456, 4, "-0.0001235", id="negative"),
    pytest.param("1e-3", 4, "0.001", id="exponent-text"),
    pytest.param(64, 4, "64", id="int"),
    pytest.param("123456789", 4, "123456789", id="int-text-whole"),
    pytest.param(True, 4, "True", id="bool"),
    pytest.param("adam", 4, "adam", id="text"),
    pytest.param("true", 4, "true", id="flag-text"),
    pytest.param("", 4, "", id="empty"),
    pytest.param(None, 4, "", id="none"),
    pytest.param(math.nan, 4, "nan", id="nan"),
    pytest.param(-math.inf, 4, "-inf", id="inf"),
    pytest.param(np.float32(0.1), 4, "0.1", id="numpy-float"),
    pytest.param(0.012345, 2, "0.012", id="sd-2-digits"),
]


@pytest.mark.parametrize(("value", "digits", "shown"), TABLE)
def test_readable(value: object, digits: int, shown: str) -> None:
    assert readable(value, digits) == shown
