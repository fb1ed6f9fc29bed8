"""bench/search_quality.py's arithmetic, by tables: what each evaluation costs, the
incumbent curve, normalized regret at a budget, its area on a log axis, mean ranks.
(The bench's problems and peers live in a venv of their own; this part is plain Python.)"""

from __future__ import annotations

import math
import re

import pytest

from bench.quality.ledger import BudgetSpent, Event, Ledger
from bench.quality.regret import area, incumbent_curve, mean_ranks, normalized, ranks, regret_at
from bench.search_quality import DEFAULT, OPTUNA_ALONE, best_peer, last_line


class Line:
    """A stand-in problem: value = 1 / step + x, 3 steps a full evaluation."""

    name, params, max_step, best, typical = "line", [], 3, 0.0, 1.0

    def evaluate(self, config: dict[str, float], step: int) -> float:
        return 1 / step + config["x"]


@pytest.mark.parametrize(
    ("calls", "costs"),
    [
        pytest.param([("a", 1), ("a", 2), ("a", 3)], [1, 1, 1], id="a-trial-step-by-step"),
        pytest.param([("a", 1), ("a", 3)], [1, 2], id="promoted-pays-the-difference"),
        pytest.param([("a", 1), ("b", 3)], [1, 3], id="a-new-trial-pays-every-step"),
        pytest.param([("a", 3), ("a", 1)], [3, 1], id="going-back-retrains"),
        pytest.param([("a", 2), ("a", 2)], [2, 2], id="the-same-step-again-retrains"),
    ],
)
def test_each_evaluation_costs_the_steps_it_trains(calls, costs) -> None:
    ledger = Ledger(Line(), budget=100)
    for trial, step in calls:
        ledger.evaluate(trial, {"x": 0.0}, step)
    assert [e.cost for e in ledger.events] == costs
    assert ledger.spent == sum(costs)


def test_a_spent_budget_refuses_the_next_evaluation() -> None:
    ledger = Ledger(Line(), budget=3)
    ledger.evaluate("a", {"x": 0.0}, 2)
    ledger.evaluate("a", {"x": 0.0}, 3)
    assert ledger.exhausted
    with pytest.raises(BudgetSpent):
        ledger.evaluate("b", {"x": 0.0}, 1)
    assert len(ledger.events) == 2


EVENTS = [
    Event(1, 1, 0.1),  # a low fidelity: never an incumbent however good
    Event(3, 3, 0.8),  # spent 4: first full evaluation
    Event(3, 3, 0.9),  # spent 7: worse, no change
    Event(1, 1, 0.0),  # spent 8
    Event(2, 3, 0.3),  # spent 10: better
    Event(3, 3, math.nan),  # spent 13: a failed run is no incumbent
]


def test_the_incumbent_is_the_best_full_evaluation_so_far() -> None:
    assert incumbent_curve(EVENTS, max_step=3) == [(4, 0.8), (10, 0.3)]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, 1.0, id="nothing-yet-is-typical"),
        pytest.param(-1.0, 0.0, id="the-best"),
        pytest.param(1.0, 1.0, id="typical"),
        pytest.param(0.0, 0.5, id="halfway"),
        pytest.param(3.0, 1.0, id="worse-than-typical-clipped"),
        pytest.param(-2.0, 0.0, id="better-than-best-clipped"),
    ],
)
def test_normalized_regret(value: float | None, expected: float) -> None:
    assert normalized(value, best=-1.0, typical=1.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("budget", "expected"),
    [(3, 1.0), (4, 0.8), (9.9, 0.8), (10, 0.3), (1000, 0.3)],
)
def test_regret_at_a_budget(budget: float, expected: float) -> None:
    curve = incumbent_curve(EVENTS, max_step=3)
    assert regret_at(curve, budget, best=0.0, typical=1.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("curve", "start", "end", "expected"),
    [
        pytest.param([], 1, 100, 1.0, id="never-evaluated"),
        pytest.param([(1, 0.0)], 1, 100, 0.0, id="the-best-at-once"),
        pytest.param([(10, 0.0)], 1, 100, 0.5, id="best-after-one-decade-of-two"),
        pytest.param([(10, 0.5)], 1, 100, 0.75, id="half-then-half"),
        pytest.param([(10, 0.5), (1000, 0.0)], 1, 100, 0.75, id="after-the-end-ignored"),
    ],
)
def test_area_is_the_mean_regret_over_log_budget(curve, start, end, expected) -> None:
    assert area(curve, best=0.0, typical=1.0, start=start, end=end) == pytest.approx(expected)


def test_ranks_share_ties_and_average_over_problems() -> None:
    assert ranks({"a": 0.1, "b": 0.3, "c": 0.1}) == {"a": 1.5, "b": 3.0, "c": 1.5}
    table = {"p": {"a": 0.1, "b": 0.2}, "q": {"a": 0.4, "b": 0.3}, "r": {"a": 0.0, "b": 0.5}}
    assert mean_ranks(table) == pytest.approx({"a": 4 / 3, "b": 5 / 3})


def test_the_last_line_reads_as_the_issue_gives_it() -> None:
    scores = {DEFAULT: 0.2, OPTUNA_ALONE: 0.3, "hpsweep random": 0.1, "syne-tune ASHA": 0.25}
    scores["ray-tune ASHA"] = 0.4
    assert best_peer(scores) == "syne-tune ASHA"  # hpsweep's and Optuna's own are no peers
    line = last_line(scores)
    assert line == (
        "default preset: mean normalized regret 0.200 (rank 2 of 5); "
        "best peer syne-tune ASHA 0.250; optuna alone 0.300"
    )
    pattern = (
        r"default preset: mean normalized regret (\S+) \(rank (\S+) of (\d+)\); "
        r"best peer (.+) (\S+); optuna alone (\S+)"
    )
    assert re.fullmatch(pattern, line)
