"""The sweep's Optuna study: opened or resumed, and asked for trials.

    study = open_study(StudySettings(...), plan, sweep_dir, storage)
    ask = TrialAsker(study, plan.n_trials)
    trial = ask()                       # None: n_trials are claimed (by any process)

A study is created, or loaded when the same command resumes the same sweep folder (or
another process shares its storage). Resuming, the sampler's seed moves on with the
trials already there (bookkeeping.sampler_seed), a grid's combinations are enqueued
once (they live in the storage, so a resumed grid finds the rest), and the trials a
cut or killed process of this folder left RUNNING stay RUNNING: `cut_off_trials`
hands them to the sweep loop, which runs them first, in their own job folders, from
their saved states. Several processes may share one study: a trial asked beyond
n_trials is recorded as surplus and never runs.

Why the RUNNING trial continues instead of a re-queued copy: a copy starts with no
intermediate values (Optuna's enqueue_trial takes parameters only), so the study would
hold two half curves for one configuration, and pruners would compare a resumed
trial's later epochs against nothing. Continued, the trial keeps one curve (a step
it already holds is not reported again), its number, its job folder and its
TensorBoard run.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from hydra.utils import instantiate
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import (
    SURPLUS_ATTR,
    claimed_numbers,
    cut_off,
    sampler_seed,
    surplus,
)
from hpsweep.search.plan import SweepPlan
from hpsweep.search.space import grid_combinations
from hpsweep.sweep.channel import registered_jobs
from hpsweep.sweep.settings import PRUNER_TARGETS, directions_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StudySettings:
    """The sweeper's settings that make its study (hydra.sweeper.*)."""

    study_name: str
    direction: Any  # minimize | maximize, or a list of them: one per objective
    sampler: dict[str, Any]  # an Optuna sampler's config (hydra/sweeper/sampler)
    pruner: dict[str, Any]  # an Optuna pruner's config (hydra/sweeper/pruner)
    seed: int | None
    n_jobs: int


def make_sampler(settings: StudySettings, seed: int | None) -> optuna.samplers.BaseSampler:
    config = dict(settings.sampler)
    if config.get("seed", 0) is None:
        config["seed"] = seed
    if settings.n_jobs > 1 and config.get("constant_liar") is False:
        # Trials in flight: TPE pretends each running trial came out badly, so that
        # parallel proposals spread out instead of piling onto one spot.
        config["constant_liar"] = True
    with warnings.catch_warnings():
        # Optuna marks some samplers (qmc, gp) experimental and warns on every
        # construction; the user chose one by name, so the warning tells them nothing.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = instantiate(
            config,
            _execution_whitelist_=(
                "optuna.samplers.*",
                "hydra_plugins.hydra_optuna_sweeper.*",
                "hpsweep.samplers.*",
            ),
        )
    if not isinstance(sampler, optuna.samplers.BaseSampler):
        raise ValueError(
            "hydra/sweeper/sampler=grid needs the space up front: "
            "use hydra.sweeper.search=grid (or auto) instead"
        )
    return sampler


def make_pruner(settings: StudySettings) -> optuna.pruners.BasePruner:
    return instantiate(settings.pruner, _execution_whitelist_=PRUNER_TARGETS)


def trials_in_storage(storage: Any, study_name: str) -> int:
    """How many trials the study already holds (0 if it does not exist yet)."""
    try:
        study_id = storage.get_study_id_from_name(study_name)
    except KeyError:
        return 0
    return len(storage.get_all_trials(study_id, deepcopy=False))


def open_study(
    settings: StudySettings, plan: SweepPlan, sweep_dir: Path, storage: Any
) -> optuna.Study:
    """The sweep's study, created or resumed (see the module's docstring)."""
    seed = sampler_seed(settings.seed, trials_in_storage(storage, settings.study_name))
    study = optuna.create_study(
        study_name=settings.study_name,
        storage=storage,
        # A grid's trials are all enqueued below; the sampler then proposes nothing.
        sampler=make_sampler(settings, seed),
        pruner=make_pruner(settings),
        directions=directions_of(settings.direction),
        load_if_exists=True,
    )
    if plan.grid and not study.get_trials(deepcopy=False):
        for combination in grid_combinations(plan.space):
            study.enqueue_trial(combination)
    return study


def cut_off_trials(study: optuna.Study, sweep_dir: Path) -> list[optuna.Trial]:
    """Trials a cut or killed process of this sweep folder left RUNNING, to continue."""
    own = set(registered_jobs(sweep_dir).values())
    cut = cut_off(study.get_trials(deepcopy=False), own)
    if cut:
        numbers = [t.number for t in cut]
        log.info("resuming: trials %s were cut off; they continue in their own folders", numbers)
    # FrozenTrial's id is private; Optuna's own Trial is made from it the same way.
    return [optuna.trial.Trial(study, t._trial_id) for t in cut]


class TrialAsker:
    """Asks the study for the sweep's next trial: `asker()` gives it, or None once
    n_trials are claimed. A trial asked beyond them (another process asked at the same
    time) is recorded as surplus and never runs.

    Whether n_trials are claimed takes a pass over the whole study, so it is read only
    when the trial numbers say it may be: numbers are dense (a study's k-th trial is
    number k), so while the last number seen is below n_trials - 1 fewer than n_trials
    were there, and a trial numbered below n_trials has fewer than n_trials ahead of it.
    A sweep of its own study never reads it to ask; one that shares it with other
    processes reads it near the end, where another process's trials may take the
    last places (and may ask one surplus trial where they already did).
    """

    def __init__(self, study: optuna.Study, n_trials: int) -> None:
        self.study, self.n_trials = study, n_trials
        self.numbers_seen = len(study.get_trials(deepcopy=False))  # trials 0 .. seen - 1

    def __call__(self) -> optuna.Trial | None:
        if self.numbers_seen >= self.n_trials and self.claimed() >= self.n_trials:
            return None
        trial = self.study.ask()
        self.numbers_seen = max(self.numbers_seen, trial.number + 1)
        if trial.number >= self.n_trials and surplus(
            self.study.get_trials(deepcopy=False), [trial.number], self.n_trials
        ):
            trial.set_user_attr(SURPLUS_ATTR, True)
            self.study.tell(trial, state=TrialState.FAIL)
            return None
        return trial

    def claimed(self) -> int:
        return len(claimed_numbers(self.study.get_trials(deepcopy=False)))
