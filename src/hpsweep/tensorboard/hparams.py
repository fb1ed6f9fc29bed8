"""Which hyperparameters TensorBoard's HParams dashboard shows, as flat scalars.

A run records the option chosen in each config group (`optimizer: adam`), every
leaf of a group whose option was given on the command line (so
`regularization=none,dropout` shows `regularization.dropout`), and every leaf set
on the command line (`optimizer.lr`). A sweep records, before its first trial, the
domain of each swept parameter, read from the same override grammar Hydra parses.

Example: `python train.py -m optimizer=adam,sgd optimizer.lr=interval(1e-4,1e-1)`
gives each run {optimizer: "sgd", optimizer.lr: 0.0123, optimizer.momentum: 0.9, ...}
and the sweep the domains {optimizer: Discrete(adam, sgd), optimizer.lr:
RealInterval(1e-4, 1e-1)} (plus any leaf whose default differs between adam and sgd).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, ListConfig, OmegaConf
from tensorboard.plugins.hparams import summary_v2 as hp

from hpsweep.sweep.spec import SweepSpec

HParamValue = bool | int | float | str

# Config keys that describe how to build an object, not a hyperparameter.
_NOT_HPARAMS = ("_target_", "_partial_", "_convert_", "_recursive_", "_args_")


def scalar(value: Any) -> HParamValue:
    """A value TensorBoard can show: lists become their text, None becomes "null"."""
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, ListConfig | DictConfig):
        value = OmegaConf.to_container(value, resolve=True)
    return "null" if value is None else str(value)


def group_leaves(group: str, node: Any) -> dict[str, HParamValue]:
    """The leaves under one config node, flattened to `group.key.subkey` names."""
    if not isinstance(node, DictConfig):
        return {group: scalar(node)}
    leaves: dict[str, HParamValue] = {}
    for key in node:
        if key in _NOT_HPARAMS:
            continue
        leaves.update(group_leaves(f"{group}.{key}", node[key]))
    return leaves


def parse(overrides: Iterable[str]) -> list[Override]:
    return OverridesParser.create().parse_overrides(overrides=list(overrides))


def run_hparams(
    cfg: DictConfig, choices: Mapping[str, str | None], overrides: Iterable[str]
) -> dict[str, HParamValue]:
    """The hparams of one run from its config, Hydra's group choices and its overrides."""
    hparams: dict[str, HParamValue] = {
        group: choice
        for group, choice in choices.items()
        if choice is not None and not group.startswith("hydra")
    }
    for override in parse(overrides):
        key = override.key_or_group
        if key.startswith("hydra") or override.is_delete():
            continue
        node = OmegaConf.select(cfg, key)
        if key in choices and isinstance(node, DictConfig):
            hparams.update(group_leaves(key, node))
        elif node is not None and not isinstance(node, DictConfig):
            hparams[key] = scalar(node)
    return hparams


def discrete(values: Iterable[Any]) -> hp.Discrete:
    """TensorBoard's Discrete domain needs one type: mixed numbers become floats."""
    unique = list(dict.fromkeys(scalar(v) for v in values))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in unique):
        if any(isinstance(v, float) for v in unique):
            unique = [float(v) for v in unique]
    elif not all(isinstance(v, type(unique[0])) for v in unique):
        unique = [str(v) for v in unique]
    return hp.Discrete(unique)


def sweep_domains(
    spec: SweepSpec, group_option_leaves: Callable[[str, str], dict[str, HParamValue]]
) -> dict[str, hp.Domain]:
    """The domain of every searched parameter, and of the leaves that differ between the
    options of every searched group.

    `group_option_leaves(group, option)` returns the leaves of one option of a group
    (the caller composes it); their values across options become Discrete domains.
    """
    domains: dict[str, hp.Domain] = {}
    swept_groups: dict[str, list[str]] = {}
    for parameter in spec.parameters:
        interval = parameter.interval
        if interval is not None:
            domain_type = hp.IntInterval if interval.is_int else hp.RealInterval
            domains[parameter.key] = domain_type(interval.low, interval.high)
            continue
        values = parameter.values()
        domains[parameter.key] = discrete(values)
        if parameter.is_group:
            swept_groups[parameter.key] = [str(option) for option in values]

    for group, options in swept_groups.items():
        seen: dict[str, list[HParamValue]] = {}
        for option in options:
            for leaf, value in group_option_leaves(group, option).items():
                seen.setdefault(leaf, []).append(value)
        for leaf, values in seen.items():
            # Only leaves that differ between the options, and never over a leaf that is
            # swept itself: constant columns would crowd out the swept ones.
            if leaf not in domains and len(set(values)) > 1:
                domains[leaf] = discrete(values)
    return domains
