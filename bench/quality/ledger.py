"""What a method spends, counted in steps by one ledger for every method.

A method asks for `evaluate(trial, config, step)`. A trial that continues (it was
evaluated at a lower step before: a promoted or resumed trial, a trial reporting epoch
after epoch) pays only the steps past its last one, as a resumed training run would; a
method that retrains from scratch at every fidelity (SMAC's Hyperband) passes a new
trial key each time and pays every step. Each evaluation is kept as an event, in order:
the trace that regret.py reads.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

from bench.quality.problems import Problem


class BudgetSpent(Exception):
    """Raised by `evaluate` once the budget is gone: the method stops there."""


@dataclass(frozen=True)
class Event:
    cost: int  # steps this evaluation cost
    step: int  # the fidelity it was evaluated at
    value: float


@dataclass
class Ledger:
    problem: Problem
    budget: int  # in steps
    events: list[Event] = field(default_factory=list)
    spent: int = 0
    _last_step: dict[Hashable, int] = field(default_factory=dict)

    @property
    def exhausted(self) -> bool:
        return self.spent >= self.budget

    def evaluate(self, trial: Hashable, config: dict[str, float], step: int) -> float:
        """The problem's value of `config` at `step`, charged to `trial`."""
        if self.exhausted:
            raise BudgetSpent
        value = self.problem.evaluate(config, step)
        self.record(trial, step, value)
        return value

    def record(self, trial: Hashable, step: int, value: float) -> None:
        """Charge an evaluation made elsewhere (a Ray Tune worker's report, a trial of a
        sweep read back from its study) as `evaluate` would have."""
        last = self._last_step.get(trial, 0)
        cost = step - last if step > last else step
        self._last_step[trial] = max(last, step)
        self.spent += cost
        self.events.append(Event(cost, step, value))
