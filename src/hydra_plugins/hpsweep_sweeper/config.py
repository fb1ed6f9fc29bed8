"""Config schemas of the hpsweep sweeper, registered in Hydra's ConfigStore.

`hydra/sweeper=hpsweep` is the sweeper; its samplers come from hydra-optuna-sweeper's
group `hydra/sweeper/sampler` (tpe, random, grid, cmaes, gp, qmc), reused rather than
defined again, plus `hpsweep_tpe`: Optuna's TPE with the settings hpsweep's presets
chose by measurement (bench/tpe_defaults.py), and `hpsweep_mftpe`: hpsweep's
multi-fidelity TPE (hpsweep.samplers), measured in bench/search_quality.py. Its
pruners are Optuna's, in `hydra/sweeper/pruner`. The presets in this package's
conf/hydra/sweeper/ (auto, grid, random, tpe, sha, hyperband; on every app's search
path through search_path.py) pick among these. Nothing here reads an app's keys
unguarded: `trainer.epochs` and `objective.mode` are used when the app has them
(`oc.select`), else Optuna's "auto" and `direction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeperConf
from hydra.core.config_store import ConfigStore
from hydra_plugins.hydra_optuna_sweeper.config import TPESamplerConfig
from omegaconf import MISSING

from hpsweep.sweep.settings import GRID_SWEEPER_TARGET, SWEEPER_TARGET


@dataclass
class NopPrunerConfig:
    """Never prunes: every trial trains until it completes or stops early."""

    _target_: str = "optuna.pruners.NopPruner"


@dataclass
class MedianPrunerConfig:
    """Prunes a trial whose value is worse than the median of earlier trials at that epoch."""

    _target_: str = "optuna.pruners.MedianPruner"
    n_startup_trials: int = 5
    n_warmup_steps: int = 0
    interval_steps: int = 1


@dataclass
class SuccessiveHalvingPrunerConfig:
    """Asynchronous successive halving: rungs at min_resource * reduction_factor**k epochs."""

    _target_: str = "optuna.pruners.SuccessiveHalvingPruner"
    min_resource: int = 1
    reduction_factor: int = 3
    min_early_stopping_rate: int = 0


@dataclass
class HyperbandPrunerConfig:
    """Hyperband: several successive-halving brackets. The maximum resource is the app's
    trainer.epochs when it has one, else "auto": the most steps the first finished trial
    reported."""

    _target_: str = "optuna.pruners.HyperbandPruner"
    min_resource: int = 1
    max_resource: Any = "${oc.select:trainer.epochs,auto}"
    reduction_factor: int = 3


@dataclass
class HpsweepTPESamplerConfig(TPESamplerConfig):
    """TPE as hpsweep's presets run it.

    hydra-optuna-sweeper's `tpe` passes multivariate=False and constant_liar=False
    explicitly, overriding Optuna's own defaults (since Optuna 5: multivariate for a
    single objective, constant liar on). hpsweep's presets take multivariate TPE (one
    joint density over the parameters, not one each) with group (a joint density per
    set of parameters searched together, so that a conditional space stays joint),
    measured against random search by bench/tpe_defaults.py (README, Performance);
    constant_liar keeps n_jobs > 1 workers from proposing the same point and changes
    nothing with one. `hydra/sweeper/sampler=tpe` still gives the stock config."""

    multivariate: bool = True
    group: bool = True
    constant_liar: bool = True


@dataclass
class MultiFidelityTPESamplerConfig:
    """hpsweep.samplers.MultiFidelityTPESampler: TPE fitted on the largest budget (step)
    at which enough trials have a value, across every bracket and rung (BOHB's model).
    Not a preset's sampler: under Hyperband it measured no better than Optuna's TPE,
    which already ranks trials by the step they reached (bench/search_quality.py, 20
    seeds: mfh3 0.069 against 0.065, mfh6 0.392 against 0.232)."""

    _target_: str = "hpsweep.samplers.MultiFidelityTPESampler"
    seed: int | None = None
    # Trials with a value at a budget before the model uses it; null: parameters + 2.
    min_points: int | None = None
    n_startup_trials: int = 10
    n_ei_candidates: int = 24
    multivariate: bool = True
    group: bool = True
    constant_liar: bool = True


@dataclass
class RepeatsConf:
    # Every configuration runs `repeats` times, as separate jobs, with `seed_key` set to
    # the app's own value there plus the repeat index (0, 1, ...); the study is told the
    # mean (hpsweep.search.repeats). 1: one job per trial, as ever. `adaptive`: racing
    # (hpsweep.search.racing): one seed each, another while a test at `significance`
    # against the best configuration does not rule it out, up to `max_repeats`.
    repeats: Any = 1
    seed_key: str = "trainer.seed"
    # Repeats that must finish for the configuration to count (null: all of them);
    # fewer, and it is failed with the first reason.
    min_repeats: int | None = None
    max_repeats: int = 5
    significance: float = 0.1


@dataclass
class HpsweepSweeperConf(RepeatsConf):
    _target_: str = SWEEPER_TARGET
    defaults: list[Any] = field(
        default_factory=lambda: [{"sampler": "hpsweep_tpe"}, {"pruner": "none"}]
    )

    # An Optuna sampler config from hydra/sweeper/sampler; its seed defaults to `seed`.
    sampler: Any = MISSING
    # An Optuna pruner config from hydra/sweeper/pruner; trials report once per epoch.
    pruner: Any = MISSING
    # auto: every combination once when each parameter is a finite list (comma list,
    # choice, integer range), else `sampler` for n_trials. grid: always every
    # combination (finite parameters only). sample: always `sampler` for n_trials.
    search: str = "auto"
    # minimize | maximize (presets follow the app's objective.mode when it has one);
    # a list, one per objective, for an app that returns several values.
    direction: Any = "minimize"
    # Trials in all, counting those already in the study.
    n_trials: int = 20
    # Trials handed to the launcher at once (parallel with the joblib launcher).
    n_jobs: int = 1
    seed: int | None = 0
    # An RDB URL (sqlite:///..., postgresql://...) or a journal file path;
    # null: a journal file inside the sweep folder.
    storage: str | None = None
    # null: "hpsweep" (hpsweep.sweep.channel.DEFAULT_STUDY_NAME). Not the sweep folder's
    # name: Hyperband picks a trial's bracket from a hash of the study name, and a name
    # with the folder's random part would prune other trials each time.
    study_name: str | None = None
    # Share of failed trials tolerated before the sweep stops.
    max_failure_rate: float = 0.25
    # The search space in config, as overrides: {optimizer.lr: "interval(1e-4,1e-1)"}.
    params: dict[str, str] | None = None
    # Parameters searched only when a choice takes one value:
    # {"optimizer=sgd": {optimizer.momentum: "interval(0.5,0.99)"}}.
    conditional: dict[str, dict[str, str]] | None = None
    # Print the search space and trial count, compose the configs known up front, exit.
    dry_run: bool = False
    # Write the report's plots into the sweep folder when the sweep ends
    # (`hpsweep report <dir>` writes them any time).
    report: bool = True
    # Keep each trial's last saved training state (<job>/state/) when it ends, e.g. to
    # continue it later with more epochs. Default: removed as the trial ends; what
    # stays is what resume needs (the states of trials cut off) and each job's best.pt.
    keep_state: bool = False
    # async: a job starts the moment any of the n_jobs in flight ends (no batch
    # barrier); batch: n_jobs at a time, the next batch when the whole batch has ended
    # (Hydra's stock behaviour, kept for bench/dispatch.py to measure against).
    dispatch: str = "async"
    # Population Based Training (hydra/sweeper=pbt sets it): population, interval,
    # quantile, resample_probability, epochs (hpsweep.search.pbt). null: no PBT.
    pbt: Any = None


@dataclass
class GridSweeperConf(BasicSweeperConf, RepeatsConf):
    """hydra/sweeper=grid: Hydra's basic sweeper (grid_sweeper.py), whose config also
    holds the repeat keys, so that setting them there is hpsweep's one-line error
    (hpsweep.hydra_callbacks.validate) rather than Hydra's composition error."""

    _target_: str = GRID_SWEEPER_TARGET


store = ConfigStore.instance()
store.store(group="hydra/sweeper", name="hpsweep", node=HpsweepSweeperConf, provider="hpsweep")
store.store(group="hydra/sweeper", name="hpsweep_grid", node=GridSweeperConf, provider="hpsweep")
store.store(
    group="hydra/sweeper/sampler",
    name="hpsweep_tpe",
    node=HpsweepTPESamplerConfig,
    provider="hpsweep",
)
store.store(
    group="hydra/sweeper/sampler",
    name="hpsweep_mftpe",
    node=MultiFidelityTPESamplerConfig,
    provider="hpsweep",
)
for name, node in {
    "none": NopPrunerConfig,
    "median": MedianPrunerConfig,
    "sha": SuccessiveHalvingPrunerConfig,
    "hyperband": HyperbandPrunerConfig,
}.items():
    store.store(group="hydra/sweeper/pruner", name=name, node=node, provider="hpsweep")
