"""Ray Tune 2.60's multi-fidelity methods, driven as a Ray Tune user drives them.

The methods (metric minimized, resource attribute `step` (epochs), `max_t =
problem.max_step`, reduction factor 3, one trial at a time):

- "ray-tune ASHA": `ASHAScheduler` (asynchronous successive halving, grace period 1: rungs
  at 1, 3, 9 steps; a trial reaching a rung continues only while it ranks in the top
  third of the values recorded there so far) over random configurations
  (`BasicVariantGenerator`, seeded).
- "ray-tune ASHA+Optuna": the same scheduler over `OptunaSearch` (Optuna's TPE, seeded).
  Ray tells Optuna a trial's *last* reported value, whatever step ASHA stopped it at, so
  TPE models values of mixed fidelities: that is Ray's behaviour, kept on purpose.
- "ray-tune BOHB" (only where hpbandster and ConfigSpace are installed): `TuneBOHB`
  (hpbandster's kernel-density model) with `HyperBandForBOHB` (synchronous Hyperband
  that pauses trials at a rung and resumes the promoted ones from their checkpoint).
  At one trial at a time Ray 2.60 runs only its first bracket (27 trials at 1 step, 9
  promoted to 3, 3 to 9, 1 to 27): once that bracket's last trial ends, the bracket no
  longer counts as filled, and every later trial joins it as its only live trial and
  runs straight to `max_t`. So after 81 steps this is BOHB's model proposing full
  evaluations. That is what Ray does; it is kept, not worked around.

How they are driven: a real `tune.Tuner` over a function trainable that evaluates the
problem step after step and reports each step (`tune.report`), one trial at a time
(`max_concurrent_trials=1`), as every other method in the bench runs on one worker. The
worker evaluates; the driver counts: a `Callback` charges every result to the ledger in
the order Tune processes it, and a `Stopper` stops the trial and the experiment once the
ledger is spent. A result that arrives after that is not charged, as `Ledger.evaluate`
refuses an evaluation once the budget is gone. The problem travels to the worker
pickled (`tune.with_parameters`); its evaluations are deterministic, so the worker's
copy gives the values the driver's would.

Seeding: the variant generator and Optuna take the seed; TuneBOHB seeds ConfigSpace's
sampling, but hpbandster and statsmodels draw from the global NumPy generator, so the
BOHB run also seeds that and restores its state afterwards. With one trial at a time
Tune's order of events is fixed: a seed's event list is identical from run to run.

Needs: ray[tune] 2.60 (its `import pyarrow` must work: with NumPy 1.x, pyarrow < 26),
optuna, and for BOHB hpbandster 0.7.4 with ConfigSpace. A failing trial fails the run
(fail fast), rather than Tune starting failing trials until `num_samples`.

Speed (none of it changes what the algorithms do): one Ray runtime per process (starting
one costs seconds), its files in a temporary directory removed at exit; actors reused
between trials (a new worker process per trial costs ~1.7 s); no per-trial JSON/CSV/
TensorBoard loggers; experiment-state snapshots only at the end; no dashboard, no worker
logs, no progress output; each run's storage in a temporary directory removed after it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.quality.ledger import Ledger
from bench.quality.problems import Param, Problem

# Read by Tune when an experiment starts, so set before any experiment; setdefault
# leaves a caller's own choice alone.
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")  # no result files
os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "1000000")  # state saved at the end
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the old reporter: silent at verbose=0

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler, TrialScheduler
from ray.tune.search import BasicVariantGenerator, Searcher
from ray.tune.search.optuna import OptunaSearch

METRIC = "value"
STEP = "step"
REDUCTION_FACTOR = 3
# Enough trials that the budget, not the sample count, ends every run.
NUM_SAMPLES = 1_000_000


def _ensure_ray() -> None:
    """Start a local Ray once per process: nothing printed, its files removed at exit."""
    if ray.is_initialized():
        return
    # Workers unpickle the trainable and the problem by reference to this package, and
    # take their environment from the Ray that ray.init starts: put the directory that
    # holds `bench` on their path (the driver may have it only in sys.path).
    paths = [str(Path(__file__).resolve().parents[2])]
    paths += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    root = tempfile.mkdtemp(prefix="ray-")  # short: Ray puts Unix sockets under it
    ray.init(
        num_cpus=1,  # one trial at a time needs one; fewer idle workers started
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
        _temp_dir=root,  # not /tmp/ray: a session's logs and trial folders go with it
    )
    for name in ("ray", "ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.ERROR)

    def shutdown() -> None:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(shutdown)


class _LedgerCallback(tune.Callback):
    """Charges each result to the ledger, in the order the driver processes them."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        if not self.ledger.exhausted:
            self.ledger.record(trial.trial_id, int(result[STEP]), float(result[METRIC]))


class _BudgetStopper(tune.Stopper):
    """Stops the trial, and the experiment, once the ledger is spent."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def __call__(self, trial_id: str, result: dict) -> bool:
        return self.ledger.exhausted

    def stop_all(self) -> bool:
        return self.ledger.exhausted


def _trainable(config: dict[str, float], problem: Problem) -> None:
    """One trial: the configuration trained step after step, each step reported."""
    for step in range(1, problem.max_step + 1):
        tune.report({METRIC: problem.evaluate(config, step), STEP: step})


def _resumable_trainable(config: dict[str, float], problem: Problem) -> None:
    """One trial that Hyperband may pause at a rung and resume later. Ray restores a
    paused function trainable only from its last reported checkpoint (without one it
    would start again at step 1), so each step is reported with a checkpoint holding
    the step reached, and a resumed trial goes on after it: the ledger charges only
    the new steps, as for a resumed training run."""
    start = 1
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:
        with checkpoint.as_directory() as folder:
            start = int(Path(folder, "step").read_text()) + 1
    for step in range(start, problem.max_step + 1):
        value = problem.evaluate(config, step)
        with tempfile.TemporaryDirectory() as folder:
            Path(folder, "step").write_text(str(step))
            checkpoint = tune.Checkpoint.from_directory(folder)
            tune.report({METRIC: value, STEP: step}, checkpoint=checkpoint)


def _domain(param: Param) -> Any:
    if param.log:
        return tune.loguniform(param.low, param.high)
    return tune.uniform(param.low, param.high)


def _fit(
    problem: Problem,
    ledger: Ledger,
    trainable: Callable[..., None],
    scheduler: TrialScheduler,
    search_alg: Searcher | BasicVariantGenerator,
) -> None:
    """Run one Tune experiment until the ledger is spent; leave no files behind."""
    _ensure_ray()
    storage = tempfile.mkdtemp(prefix="ray-tune-run-")
    try:
        tuner = tune.Tuner(
            tune.with_parameters(trainable, problem=problem),
            param_space={p.name: _domain(p) for p in problem.params},
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="min",
                scheduler=scheduler,
                search_alg=search_alg,
                num_samples=NUM_SAMPLES,
                max_concurrent_trials=1,
                reuse_actors=True,
            ),
            run_config=tune.RunConfig(
                storage_path=storage,
                name="run",
                verbose=0,
                stop=_BudgetStopper(ledger),
                callbacks=[_LedgerCallback(ledger)],
                # Keep every checkpoint: with `num_to_keep` set, each checkpoint forces an
                # experiment-state snapshot (BOHB 1.7x slower) and races its upload.
                checkpoint_config=tune.CheckpointConfig(),
                # A failing trial ends the run: Tune would otherwise start trial after
                # failing trial (num_samples is huge) and never spend the budget.
                failure_config=tune.FailureConfig(fail_fast=True),
            ),
        )
        errors = tuner.fit().errors
        if errors:
            raise RuntimeError(f"{len(errors)} Ray Tune trial(s) failed") from errors[0]
    finally:
        shutil.rmtree(storage, ignore_errors=True)


def _asha(problem: Problem) -> ASHAScheduler:
    return ASHAScheduler(
        time_attr=STEP,
        max_t=problem.max_step,
        grace_period=1,
        reduction_factor=REDUCTION_FACTOR,
    )


def run_asha(problem: Problem, seed: int, ledger: Ledger) -> None:
    """ASHA over seeded random configurations."""
    # Tune applies `max_concurrent_trials` only to a `Searcher`: a variant generator
    # passed in ignores it (its warning goes to the muted log) and would start a trial
    # per free CPU, interleaved in an order that changes from run to run.
    search = BasicVariantGenerator(random_state=seed, max_concurrent=1)
    _fit(problem, ledger, _trainable, _asha(problem), search)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """OptunaSearch's study logs its creation at INFO: raise Optuna's level, and
    restore it (other methods in the process use Optuna too)."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def run_asha_optuna(problem: Problem, seed: int, ledger: Ledger) -> None:
    """ASHA over Optuna's TPE (seeded); Tune limits it to one trial at a time."""
    with _quiet_optuna():
        _fit(problem, ledger, _trainable, _asha(problem), OptunaSearch(seed=seed))


def run_bohb(problem: Problem, seed: int, ledger: Ledger) -> None:
    """BOHB: TuneBOHB's model proposes, HyperBandForBOHB pauses and promotes."""
    from ray.tune.schedulers import HyperBandForBOHB
    from ray.tune.search.bohb import TuneBOHB

    scheduler = HyperBandForBOHB(
        time_attr=STEP, max_t=problem.max_step, reduction_factor=REDUCTION_FACTOR
    )
    state = np.random.get_state()
    np.random.seed(seed)  # hpbandster and statsmodels sample from the global generator
    try:
        with warnings.catch_warnings():
            # hpbandster 0.7.4 calls ConfigSpace 1.x's deprecated names at every
            # suggestion; statsmodels warns that its KDE's default generator will change.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            _fit(problem, ledger, _resumable_trainable, scheduler, TuneBOHB(seed=seed))
    finally:
        np.random.set_state(state)


def _bohb_installed() -> bool:
    return all(importlib.util.find_spec(name) for name in ("hpbandster", "ConfigSpace"))


METHODS: dict[str, Callable[[Problem, int, Ledger], None]] = {
    "ray-tune ASHA": run_asha,
    "ray-tune ASHA+Optuna": run_asha_optuna,
}
if _bohb_installed():
    METHODS["ray-tune BOHB"] = run_bohb
