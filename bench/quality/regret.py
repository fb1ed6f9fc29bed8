"""The bench's arithmetic: normalized regret of the incumbent against the budget spent.

The incumbent is the best value seen at the full fidelity (a configuration evaluated
only at lower steps is not an answer a user could take). Its regret is normalized to
0 at the problem's best value and 1 at a typical random configuration (the median at
the full fidelity), and clipped to [0, 1]: before any full evaluation it is 1.
Budgets are in steps; "k x" is k full evaluations' worth (k * max_step).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

from bench.quality.ledger import Event

# (cumulative steps spent, the incumbent's value) at each full evaluation that improved it.
Curve = list[tuple[int, float]]


def incumbent_curve(events: Iterable[Event], max_step: int) -> Curve:
    curve: Curve = []
    spent = 0
    for event in events:
        spent += event.cost
        at_full = event.step >= max_step and not math.isnan(event.value)
        if at_full and (not curve or event.value < curve[-1][1]):
            curve.append((spent, event.value))
    return curve


def normalized(value: float | None, best: float, typical: float) -> float:
    if value is None:
        return 1.0
    return min(1.0, max(0.0, (value - best) / (typical - best)))


def incumbent_at(curve: Curve, budget: float) -> float | None:
    """The incumbent's value once `budget` steps are spent (None: no full evaluation yet)."""
    value = None
    for spent, incumbent in curve:
        if spent > budget:
            break
        value = incumbent
    return value


def regret_at(curve: Curve, budget: float, best: float, typical: float) -> float:
    return normalized(incumbent_at(curve, budget), best, typical)


def area(curve: Curve, best: float, typical: float, start: float, end: float) -> float:
    """The mean normalized regret over log(budget) from `start` to `end` steps: the
    regret curve's area on a log axis (each decade counts alike), divided by its width.
    The curve is a step function, so the integral is exact."""
    edges = [start] + [spent for spent, _ in curve if start < spent < end] + [end]
    total = 0.0
    for left, right in itertools.pairwise(edges):
        total += regret_at(curve, left, best, typical) * math.log(right / left)
    return total / math.log(end / start)


def ranks(scores: Mapping[str, float]) -> dict[str, float]:
    """Rank 1 for the lowest score; tied scores share the mean of their ranks."""
    ordered = sorted(scores.values())
    return {
        name: sum(i + 1 for i, s in enumerate(ordered) if s == score) / ordered.count(score)
        for name, score in scores.items()
    }


def mean_ranks(table: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """{problem: {method: score}} -> each method's rank averaged over the problems."""
    per_problem = [ranks(scores) for scores in table.values()]
    methods = set.intersection(*(set(r) for r in per_problem))
    return {m: sum(r[m] for r in per_problem) / len(per_problem) for m in sorted(methods)}


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
