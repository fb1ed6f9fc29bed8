"""What a sweep searches, read from its Hydra config: the command line's sweep
overrides plus a sweeper's `params:` and `conditional:` blocks. Shared by the
callbacks that write results.csv and the TensorBoard experiment, so that both work
for every sweeper (Hydra's basic one, the stock Optuna one, ours)."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from hpsweep.hparams import parse


def sweep_overrides(config: DictConfig) -> list[str]:
    """The command line's overrides plus a sweeper's `params:` and `conditional:` blocks."""
    overrides = list(config.hydra.overrides.task)
    params = OmegaConf.select(config, "hydra.sweeper.params")
    if params:
        overrides += [f"{key}={value}" for key, value in params.items()]
    for block in (OmegaConf.select(config, "hydra.sweeper.conditional") or {}).values():
        overrides += [f"{key}={value}" for key, value in block.items()]
    return overrides


def is_dry_run(config: DictConfig) -> bool:
    return bool(OmegaConf.select(config, "hydra.sweeper.dry_run", default=False))


def searched_parameters(overrides: list[str]) -> list[str]:
    """Keys of the swept overrides, in the order given: the parameter columns."""
    return [
        o.get_key_element()
        for o in parse(overrides)
        if o.is_sweep_override() and not o.key_or_group.startswith("hydra")
    ]
