"""The hpsweep sweeper's own settings (`hydra.sweeper.*`), checked in one place.

Hydra builds the sweeper after the multirun-start callbacks, so the bad-input callback
(hpsweep.hydra_callbacks.validate) checks these first and bad values stop with one
line before any folder exists; the sweeper's constructor checks the same with the same
words, for a sweeper built some other way.

    check_settings({"n_trials": 0, ...})
    # SettingsError: invalid value hydra.sweeper.n_trials=0: must be an integer >= 1
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

# The hpsweep sweeper's class, as a multirun's `hydra.sweeper._target_` names it; the
# sweeper's ConfigStore schema (hydra_plugins/hpsweep_sweeper/config.py) sets it.
SWEEPER_TARGET = "hydra_plugins.hpsweep_sweeper.hpsweep_sweeper.HpsweepSweeper"
# hydra/sweeper=grid: Hydra's basic sweeper under a schema that also holds the repeat
# keys (hydra_plugins/hpsweep_sweeper/grid_sweeper.py), only to refuse them in one line.
GRID_SWEEPER_TARGET = "hydra_plugins.hpsweep_sweeper.grid_sweeper.GridSweeper"
SEARCH_MODES = ("auto", "grid", "sample")
DISPATCH_MODES = ("async", "batch")
DIRECTIONS = ("minimize", "maximize")
# hydra.sweeper.repeats=adaptive: racing (hpsweep.search.racing).
ADAPTIVE = "adaptive"
# Optuna's pruners whose rungs sit at min_resource * reduction_factor**k epochs.
RUNG_PRUNERS = ("optuna.pruners.SuccessiveHalvingPruner", "optuna.pruners.HyperbandPruner")
NO_PRUNER = "optuna.pruners.NopPruner"
# Optuna's defaults of the keys that place the first rung.
RUNG_DEFAULTS = {"min_resource": 1, "reduction_factor": 3, "min_early_stopping_rate": 0}


class SettingsError(ValueError):
    """A sweeper setting that cannot work: the message is one line meant for the user."""


def _integer_at_least(low: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= low


def _directions(value: Any) -> bool:
    if isinstance(value, str):
        return value in DIRECTIONS
    try:
        items = list(value)
    except TypeError:
        return False
    return bool(items) and all(isinstance(i, str) and i in DIRECTIONS for i in items)


def directions_of(direction: Any) -> list[str]:
    """hydra.sweeper.direction as a list: one direction per objective."""
    return [direction] if isinstance(direction, str) else [str(d) for d in direction]


def _level(value: Any) -> bool:
    return _rate(value) and 0 < value < 1


def _rate(value: Any) -> bool:
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return is_number and math.isfinite(value) and 0 <= value <= 1


# (key under hydra.sweeper, is it valid, what is allowed)
SETTING_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("search", lambda v: v in SEARCH_MODES, f"must be one of {', '.join(SEARCH_MODES)}"),
    ("direction", lambda v: _directions(v), "must be minimize, maximize or a list of them"),
    ("n_trials", _integer_at_least(1), "must be an integer >= 1"),
    ("n_jobs", _integer_at_least(1), "must be an integer >= 1"),
    ("max_failure_rate", _rate, "must be a number in [0, 1]"),
    ("dispatch", lambda v: v in DISPATCH_MODES, f"must be one of {', '.join(DISPATCH_MODES)}"),
    (
        "repeats",
        lambda v: v == ADAPTIVE or _integer_at_least(1)(v),
        f"must be an integer >= 1 or {ADAPTIVE}",
    ),
    ("seed_key", lambda v: isinstance(v, str) and bool(v), "must name a key of the app's config"),
    ("min_repeats", lambda v: v is None or _integer_at_least(1)(v), "must be null or >= 1"),
    ("max_repeats", _integer_at_least(1), "must be an integer >= 1"),
    ("significance", _level, "must be a number strictly between 0 and 1"),
)
PBT_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("population", _integer_at_least(2), "must be an integer >= 2"),
    ("interval", _integer_at_least(1), "must be an integer >= 1"),
    ("quantile", lambda v: _rate(v) and 0 < v <= 0.5, "must be a number in (0, 0.5]"),
    ("resample_probability", _rate, "must be a number in [0, 1]"),
    (
        "epochs",
        _integer_at_least(1),
        "must be the epochs each member trains in all (train.py's trainer.epochs sets it; "
        "another app sets hydra.sweeper.pbt.epochs)",
    ),
)
PRUNER_RULES: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("min_resource", lambda v: v == "auto" or _integer_at_least(1)(v), "must be auto or >= 1"),
    ("reduction_factor", _integer_at_least(2), "must be an integer >= 2"),
)


def is_hpsweep_sweeper(config: Any) -> bool:
    """Whether a multirun's config runs the hpsweep sweeper (any of its presets)."""
    from omegaconf import OmegaConf

    return OmegaConf.select(config, "hydra.sweeper._target_", default=None) == SWEEPER_TARGET


def check_settings(settings: Mapping[str, Any]) -> None:
    """Raise SettingsError for the first invalid setting among those present."""
    for key, is_valid, requirement in SETTING_RULES:
        if key in settings and not is_valid(settings[key]):
            raise SettingsError(f"invalid value hydra.sweeper.{key}={settings[key]}: {requirement}")
    min_repeats, repeats = settings.get("min_repeats"), settings.get("repeats", 1)
    if isinstance(min_repeats, int) and isinstance(repeats, int) and min_repeats > repeats:
        raise SettingsError(
            f"invalid value hydra.sweeper.min_repeats={min_repeats}: "
            f"must be at most hydra.sweeper.repeats={repeats}"
        )
    if repeats == ADAPTIVE and min_repeats is not None:
        raise SettingsError(
            f"invalid value hydra.sweeper.min_repeats={min_repeats}: it is for fixed repeats; "
            "racing (repeats=adaptive) counts a configuration once one seed has finished"
        )
    pruner = settings.get("pruner") or {}
    if settings.get("pbt") is not None:
        check_pbt(settings, settings["pbt"], pruner)
    if _directions(settings.get("direction", "minimize")):
        check_several_objectives(settings, pruner)
    if pruner.get("_target_") in RUNG_PRUNERS:
        for key, is_valid, requirement in PRUNER_RULES:
            if key in pruner and not is_valid(pruner[key]):
                raise SettingsError(
                    f"invalid value hydra.sweeper.pruner.{key}={pruner[key]}: {requirement}"
                )


def check_pbt(
    settings: Mapping[str, Any], pbt: Mapping[str, Any], pruner: Mapping[str, Any]
) -> None:
    """hydra/sweeper=pbt: its own keys, segments shorter than the run, and nothing it
    does not combine with (several objectives, repeats, a pruner)."""
    for key, is_valid, requirement in PBT_RULES:
        if not is_valid(pbt.get(key)):
            raise SettingsError(
                f"invalid value hydra.sweeper.pbt.{key}={pbt.get(key)}: {requirement}"
            )
    if pbt["interval"] >= pbt["epochs"]:
        raise SettingsError(
            f"invalid value hydra.sweeper.pbt.interval={pbt['interval']}: must be less than "
            f"the epochs each member trains ({pbt['epochs']}), or nothing is ever decided"
        )
    if len(directions_of(settings.get("direction", "minimize"))) > 1:
        raise SettingsError("hydra/sweeper=pbt ranks members by one objective: give one direction")
    if settings.get("repeats", 1) != 1:
        raise SettingsError(
            f"hydra.sweeper.repeats={settings['repeats']} with hydra/sweeper=pbt: not "
            "supported; each member is one run"
        )
    if pruner.get("_target_", NO_PRUNER) != NO_PRUNER:
        raise SettingsError(
            "hydra/sweeper=pbt takes no pruner: its members stop only at their last epoch"
        )


def pbt_space_problem(searched: int, conditional: int) -> str | None:
    """What makes a space unfit for PBT, in words (None: fit): nothing searched to
    perturb, or conditional parameters (a perturbed choice would change which exist)."""
    if searched == 0:
        return (
            "hydra/sweeper=pbt has nothing to perturb: search at least one hyperparameter, "
            "e.g. 'optimizer.lr=tag(log,interval(1e-5,1))'"
        )
    if conditional:
        return "hydra/sweeper=pbt does not perturb conditional parameters: search them always"
    return None


def check_several_objectives(settings: Mapping[str, Any], pruner: Mapping[str, Any]) -> None:
    """Several objectives take no repeats (a Pareto front of means over seeds is not
    defined here yet) and prune only by rungs (MO-ASHA: hpsweep.pruners)."""
    directions = directions_of(settings.get("direction", "minimize"))
    if len(directions) < 2:
        return
    if settings.get("repeats", 1) != 1:
        raise SettingsError(
            f"hydra.sweeper.repeats={settings['repeats']} with several objectives "
            f"(hydra.sweeper.direction=[{','.join(directions)}]): not supported; drop repeats"
        )
    target = pruner.get("_target_", NO_PRUNER)
    if target not in (*RUNG_PRUNERS, NO_PRUNER):
        raise SettingsError(
            f"{target.rsplit('.', 1)[-1]} cannot prune several objectives: use "
            "hydra/sweeper=sha or hyperband (MO-ASHA), or hydra/sweeper/pruner=none"
        )


MO_ASHA = "hpsweep.pruners.MultiObjectiveASHAPruner"
# What a sweep's pruner config may instantiate: Optuna's pruners and our own.
PRUNER_TARGETS = ("optuna.pruners.*", "hpsweep.pruners.*")


def effective_pruner(pruner: Mapping[str, Any], direction: Any) -> dict[str, Any]:
    """The pruner a sweep runs (the study's and its jobs'): the configured one; with
    several objectives, a rung pruner (the sha and hyperband presets') becomes MO-ASHA
    on the same rungs, Optuna's own refusing multi-objective studies (Hyperband's
    brackets are not kept: one bracket)."""
    if len(directions_of(direction)) < 2 or pruner.get("_target_") not in RUNG_PRUNERS:
        return dict(pruner)
    min_resource = pruner.get("min_resource", 1)
    return {
        "_target_": MO_ASHA,
        "min_resource": min_resource if isinstance(min_resource, int) else 1,
        "reduction_factor": pruner.get("reduction_factor", 3),
        "min_early_stopping_rate": pruner.get("min_early_stopping_rate", 0),
    }


def base_seed(config: Any, repeats: int | str, seed_key: str) -> int:
    """The app's own seed at `seed_key`, which repeats offset (0, 1, ...): an integer
    (not a bool) of the composed config; 0 without repeats, where it is not read."""
    from omegaconf import OmegaConf

    if repeats != ADAPTIVE and repeats <= 1:
        return 0
    base = OmegaConf.select(config, seed_key, default=None)
    if not isinstance(base, int) or isinstance(base, bool):
        raise SettingsError(
            f"invalid value hydra.sweeper.seed_key={seed_key}: repeats need the app's seed, "
            "an integer key of its config; name it with hydra.sweeper.seed_key"
        )
    return base


def nothing_to_prune(pruner: Mapping[str, Any], max_epochs: int | None) -> str | None:
    """A warning when successive halving or Hyperband can prune no trial: every trial
    reaches its last epoch (`max_epochs`) by the first rung, at min_resource *
    reduction_factor**min_early_stopping_rate epochs (Hyperband's first bracket: rate 0)."""
    if pruner.get("_target_") not in RUNG_PRUNERS or not isinstance(max_epochs, int):
        return None
    settings = [pruner.get(k, d) for k, d in RUNG_DEFAULTS.items()]
    if not all(_integer_at_least(0)(v) for v in settings):
        return None  # min_resource=auto: Optuna picks it from the first trial
    min_resource, reduction_factor, rate = settings
    first_rung = min_resource * reduction_factor**rate
    if first_rung < max_epochs:
        return None
    return (
        f"{pruner['_target_'].rsplit('.', 1)[-1]} will prune nothing: every trial has run "
        f"its last epoch (trainer.epochs={max_epochs}) by the first rung (epoch {first_rung}); "
        "train more epochs or lower hydra.sweeper.pruner.min_resource"
    )
