"""Syne Tune 0.16's multi-fidelity schedulers, driven step by step against the ledger.

The methods (all from `syne_tune.optimizer.baselines`, with their standard settings:
metric minimized, resource attribute `step` (epochs), `max_t = problem.max_step`, grace
period 1, reduction factor 3, one bracket, `random_seed = seed`):

- ASHA: asynchronous successive halving with random configurations. Rungs at 1, 3, 9
  steps; a trial reaching a rung continues only while it ranks in the top third of the
  results recorded there so far, otherwise it is stopped for good.
- BOHB: the same ASHA schedule, with configurations from a TPE-like pair of kernel
  density estimators (statsmodels' KDEMultivariate). Syne Tune 0.16 fits them on each
  trial's last reported value, whatever its step, and only once there are enough trials
  for both densities (at least 47 trials in 6 dimensions, 27 in 3); before that, and for
  a third of suggestions after, it samples at random.
- ASHA-BORE: the same ASHA schedule, with configurations from BORE (an XGBoost classifier
  of "top quarter or not" on each trial's last value). Syne Tune 0.16 no longer has
  DEHB or Hyper-Tune (earlier releases had them, with HyperbandScheduler and its
  promotion/pause mode); this is its model-based multi-fidelity method closest to them.

How they are driven: as Syne Tune's own Tuner drives a scheduler with one worker and a
simulated backend, minus the clock. Ask `suggest()`; a new trial gets the next trial id
and `on_trial_add`; a resume suggestion continues a paused trial from its last step
(the ledger charges only the new steps). The trial then reports step after step through
`on_trial_result`. On STOP or PAUSE the Tuner calls `on_trial_remove` (not
`on_trial_complete`: ASHA answers STOP at max_t, and calling both would delete its
bookkeeping twice); a trial that reaches max_step while told to CONTINUE completes on
its own, and only then gets `on_trial_complete`. No scheduler used here ever pauses or
resumes, but the loop honours both so that it stays a faithful driver.
Checked against the real thing: seeded alike, ASHA and BOHB on mfh3 and mfh6 gave the
same results and decisions, in the same order, as Syne Tune's Tuner with one worker and
its blackbox simulator backend.

Seeding: `random_seed` seeds the schedulers' own generators, but 0.16 also draws from the
global NumPy generator (random configurations through `Domain.sample()`, ASHA's bracket
choice), so each run also seeds that, and restores its state afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import numpy as np
from syne_tune.backend.trial_status import Trial
from syne_tune.config_space import Domain, loguniform, uniform
from syne_tune.optimizer.baselines import ASHA, ASHABORE, BOHB
from syne_tune.optimizer.scheduler import SchedulerDecision, TrialScheduler, TrialSuggestion

from bench.quality.ledger import BudgetSpent, Ledger
from bench.quality.problems import Problem

METRIC = "value"
TIME_ATTR = "step"
REDUCTION_FACTOR = 3
GRACE_PERIOD = 1


def config_space(problem: Problem) -> dict[str, Domain]:
    return {
        p.name: loguniform(p.low, p.high) if p.log else uniform(p.low, p.high)
        for p in problem.params
    }


def scheduler_kwargs(problem: Problem, seed: int) -> dict[str, Any]:
    """The settings every scheduler here shares (see the module docstring)."""
    return {
        "config_space": config_space(problem),
        "metric": METRIC,
        "time_attr": TIME_ATTR,
        "max_t": problem.max_step,
        "do_minimize": True,
        "random_seed": seed,
        "grace_period": GRACE_PERIOD,
        "reduction_factor": REDUCTION_FACTOR,
    }


@contextlib.contextmanager
def quiet_and_seeded(seed: int) -> Iterator[None]:
    """Seed the global NumPy generator (Syne Tune samples from it) and silence Syne
    Tune's noise, restoring both on the way out.

    The noise: ASHA's own constructor warns that `points_to_evaluate` sits in
    `searcher_kwargs` (it puts it there itself), and statsmodels 0.15 warns, at every
    KDE fit, that its default generator will change (the KDE's "normal_reference"
    bandwidth never draws from it)."""
    state = np.random.get_state()
    logger = logging.getLogger("syne_tune")
    level = logger.level
    np.random.seed(seed)
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="After 0.17", category=FutureWarning)
            yield
    finally:
        np.random.set_state(state)
        logger.setLevel(level)


class Driver:
    """One worker running a scheduler's trials in sequence against the ledger."""

    def __init__(self, scheduler: TrialScheduler, problem: Problem, ledger: Ledger) -> None:
        self.scheduler = scheduler
        self.problem = problem
        self.ledger = ledger
        self.trials: dict[int, Trial] = {}
        self.last_step: dict[int, int] = {}  # each trial's last reported step
        self.decisions: list[tuple[int, int, str]] = []  # (trial, step, decision)

    def run(self) -> None:
        """Until the budget is spent (or the scheduler has nothing left to suggest)."""
        # Checking the ledger first spares a suggestion (and a trial) that could not
        # run; the Tuner, likewise, stops asking once its stop criterion is met.
        with contextlib.suppress(BudgetSpent):
            while not self.ledger.exhausted:
                suggestion = self.scheduler.suggest()
                if suggestion is None:
                    return
                self.train(self.start(suggestion))

    def start(self, suggestion: TrialSuggestion) -> Trial:
        if not suggestion.spawn_new_trial_id:
            # Resume a paused trial, with the config the scheduler may have changed.
            trial = self.trials[suggestion.checkpoint_trial_id]
            if suggestion.config is not None:
                trial.config = suggestion.config
            return trial
        # A warm start from another trial's checkpoint (PBT) would need the ledger to
        # carry that trial's steps over; no scheduler used here asks for one.
        assert suggestion.checkpoint_trial_id is None, "warm starts are not supported"
        trial = Trial(len(self.trials), suggestion.config, datetime.now())
        self.trials[trial.trial_id] = trial
        self.last_step[trial.trial_id] = 0
        self.scheduler.on_trial_add(trial)
        return trial

    def train(self, trial: Trial) -> None:
        """Report step after step until the scheduler stops or pauses the trial, or it
        completes at max_step (the call order of Syne Tune's Tuner)."""
        config = {p.name: float(trial.config[p.name]) for p in self.problem.params}
        result: dict[str, Any] = {}
        for step in range(self.last_step[trial.trial_id] + 1, self.problem.max_step + 1):
            value = self.ledger.evaluate(trial.trial_id, config, step)
            self.last_step[trial.trial_id] = step
            result = {METRIC: value, TIME_ATTR: step}
            decision = self.scheduler.on_trial_result(trial, result)
            self.decisions.append((trial.trial_id, step, decision))
            if decision in (SchedulerDecision.STOP, SchedulerDecision.PAUSE):
                self.scheduler.on_trial_remove(trial)
                return
        self.scheduler.on_trial_complete(trial, result)


def drive(
    make: Callable[[], TrialScheduler], problem: Problem, seed: int, ledger: Ledger
) -> Driver:
    """Build the scheduler and run it, seeded and quiet; the driver keeps the record."""
    with quiet_and_seeded(seed):
        driver = Driver(make(), problem, ledger)
        driver.run()
    return driver


def run_asha(problem: Problem, seed: int, ledger: Ledger) -> None:
    drive(lambda: ASHA(**scheduler_kwargs(problem, seed)), problem, seed, ledger)


def run_bohb(problem: Problem, seed: int, ledger: Ledger) -> None:
    drive(lambda: BOHB(**scheduler_kwargs(problem, seed)), problem, seed, ledger)


def run_asha_bore(problem: Problem, seed: int, ledger: Ledger) -> None:
    drive(lambda: ASHABORE(**scheduler_kwargs(problem, seed)), problem, seed, ledger)


METHODS: dict[str, Callable[[Problem, int, Ledger], None]] = {
    "syne-tune ASHA": run_asha,
    "syne-tune BOHB": run_bohb,
    # run_asha_bore is not listed: 100-400x ASHA's time (10-35 s a run) and behind ASHA
    # on both MF-Hartmann problems at 5 seeds (0.38 / 0.24 against 0.32 / 0.04).
}
