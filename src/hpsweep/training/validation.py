"""Checks of a composed config that Hydra cannot make: values and data files.

Hydra already rejects unknown config options, unknown keys and malformed overrides.
What it cannot know is that a learning rate must be positive or that a CSV must
have the target column; `validate` checks those and raises one `ConfigError` whose
message names the key, the value and what is allowed.

Rules apply only to keys that the composed config has, so one table serves every
combination of config options.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from hpsweep.training.data import read_csv_columns
from hpsweep.training.models import ACTIVATIONS

# Metrics that train() can report; val/acc and test/acc only on classification data.
METRICS = ("train/loss", "val/loss", "val/acc", "test/loss", "test/acc")


class ConfigError(ValueError):
    """A config value that cannot work: the message is one line meant for the user."""


@dataclass(frozen=True)
class Rule:
    key: str
    is_valid: Callable[[Any], bool]
    requirement: str


def _has_key(node: DictConfig, key: str) -> bool:
    # `key in node` is False when the value is ??? (missing); keys() still lists it.
    return key in node.keys()  # noqa: SIM118


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _fraction(value: Any) -> bool:  # in [0, 1)
    return _number(value) and 0 <= value < 1


RULES: tuple[Rule, ...] = (
    Rule("optimizer.lr", lambda v: _number(v) and v > 0, "must be a number > 0"),
    Rule("optimizer.momentum", lambda v: _number(v) and v >= 0, "must be a number >= 0"),
    Rule("regularization.dropout", _fraction, "must be in [0, 1)"),
    Rule("regularization.label_smoothing", _fraction, "must be in [0, 1)"),
    Rule("regularization.weight_decay", lambda v: _number(v) and v >= 0, "must be >= 0"),
    Rule("regularization.augment", lambda v: _number(v) and v >= 0, "must be >= 0"),
    Rule("trainer.batch_size", _positive_int, "must be an integer > 0"),
    Rule("trainer.epochs", _positive_int, "must be an integer > 0"),
    Rule("trainer.device", lambda v: v in ("auto", "cpu", "cuda"), "must be auto, cpu or cuda"),
    Rule("trainer.num_threads", lambda v: v is None or _positive_int(v), "must be null or > 0"),
    Rule("objective.mode", lambda v: v in ("min", "max"), "must be min or max"),
    Rule("objective.metric", lambda v: v in METRICS, f"must be one of {', '.join(METRICS)}"),
    Rule("model.depth", lambda v: isinstance(v, int) and v >= 0, "must be an integer >= 0"),
    Rule("model.width", _positive_int, "must be an integer > 0"),
    Rule("model.kernel", lambda v: _positive_int(v) and v % 2 == 1, "must be an odd integer > 0"),
    Rule("model.heads", _positive_int, "must be an integer > 0"),
    Rule("model.layers", _positive_int, "must be an integer > 0"),
    Rule("model.dim", _positive_int, "must be an integer > 0"),
    Rule(
        "model.activation", lambda v: v in ACTIVATIONS, f"must be one of {', '.join(ACTIVATIONS)}"
    ),
    Rule("data.val_fraction", lambda v: _number(v) and 0 < v < 1, "must be in (0, 1)"),
    Rule("data.test_fraction", _fraction, "must be in [0, 1)"),
    Rule(
        "data.task",
        lambda v: v in ("auto", "classification", "regression"),
        "must be auto, classification or regression",
    ),
)


def check_rules(cfg: DictConfig, rules: tuple[Rule, ...] = RULES) -> None:
    """Raise ConfigError for the first rule whose key is present and whose value fails."""
    for rule in rules:
        parent_key, _, leaf = rule.key.rpartition(".")
        parent = OmegaConf.select(cfg, parent_key)
        if not isinstance(parent, DictConfig) or not _has_key(parent, leaf):
            continue
        if OmegaConf.is_missing(parent, leaf):
            raise ConfigError(f"{rule.key} is required: add {rule.key}=<value>")
        value = parent[leaf]
        if not rule.is_valid(value):
            raise ConfigError(f"invalid value {rule.key}={value!r}: {rule.requirement}")


def check_model_shape(cfg: DictConfig) -> None:
    model = cfg.get("model")
    if model is not None and "heads" in model and "dim" in model and model.dim % model.heads:
        raise ConfigError(f"model.dim={model.dim} must be divisible by model.heads={model.heads}")


def check_data_files(cfg: DictConfig) -> None:
    """The data file exists and has what the config names (target column, x/y arrays)."""
    data = cfg.get("data")
    if data is None or not _has_key(data, "path"):
        return
    if OmegaConf.is_missing(data, "path"):
        raise ConfigError("data.path is required: add data.path=<file>")
    path = Path(data.path)
    if not path.is_file():
        raise ConfigError(f"data file not found: {path} (data.path, relative to {Path.cwd()})")
    if _has_key(data, "target"):
        if OmegaConf.is_missing(data, "target"):
            raise ConfigError("data.target is required: add data.target=<column name>")
        try:
            columns = read_csv_columns(path)
        except (ValueError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read {path} as CSV: {error}") from error
        if data.target not in columns:
            raise ConfigError(
                f"data.target: column '{data.target}' not found in {path}; "
                f"its columns are: {', '.join(columns)}"
            )
    elif path.suffix == ".npz":
        try:
            with np.load(path) as arrays:
                names = set(arrays.files)
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {path} as .npz: {error}") from error
        if not {"x", "y"} <= names:
            raise ConfigError(f"{path} must hold arrays 'x' and 'y'; it has: {', '.join(names)}")


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first invalid value of a composed train config."""
    check_rules(cfg)
    check_model_shape(cfg)
    check_data_files(cfg)
