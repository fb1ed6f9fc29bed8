"""Checks of a composed config that Hydra cannot make: values, data, device, metrics.

Hydra already rejects unknown config options, unknown keys and malformed overrides.
What it cannot know is that a learning rate must be positive, that a CSV must have
the target column and numbers in every feature cell, that model=cnn needs images, that
a regression run reports no accuracy, or that there is no GPU; `validate` checks
those and raises one `ConfigError` whose message names the key, the value and what is
allowed. It runs before Hydra creates a folder (hpsweep.hydra_callbacks.validate), so
it imports no torch unless trainer.device=cuda asks whether there is a GPU.

Rules apply only to keys that the composed config has, so one table serves every
combination of config options.

    validate(cfg)  # ConfigError: objective.mode=min contradicts objective.metric=val/acc ...
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from hpsweep.training.data_files import (
    DataError,
    Task,
    read_csv,
    read_npz,
    resolve_task,
    split_sizes,
)
from hpsweep.training.objective import metric_direction, objective_metrics

# Metrics that train() can report; val/acc and test/acc only on classification data,
# test/* only with a test split.
METRICS = ("train/loss", "val/loss", "val/acc", "test/loss", "test/acc")
# Reported by every run, each epoch too: objectives beside a loss (size, speed).
COST_METRICS = ("model/params", "time/epoch_seconds")
METRICS += COST_METRICS
# Those reported after every epoch, which the training callbacks can monitor.
EPOCH_METRICS = ("train/loss", "val/loss", "val/acc", *COST_METRICS)
# The keys of hpsweep.training.models.ACTIVATIONS, named here so that checking a
# config does not import torch (a test keeps the two equal).
ACTIVATION_NAMES = ("relu", "gelu", "silu", "tanh", "leaky_relu", "elu")


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


def _each(value: Any, allowed: tuple[str, ...]) -> bool:
    """One allowed word, or a non-empty list of them (several objectives)."""
    if isinstance(value, str):
        return value in allowed
    items = list(value) if isinstance(value, ListConfig | list) else []
    return bool(items) and all(item in allowed for item in items)


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
    Rule("objective.mode", lambda v: _each(v, ("min", "max")), "must be min or max"),
    Rule("objective.metric", lambda v: _each(v, METRICS), f"must be one of {', '.join(METRICS)}"),
    Rule("model.depth", lambda v: isinstance(v, int) and v >= 0, "must be an integer >= 0"),
    Rule("model.width", _positive_int, "must be an integer > 0"),
    Rule("model.kernel", lambda v: _positive_int(v) and v % 2 == 1, "must be an odd integer > 0"),
    Rule("model.heads", _positive_int, "must be an integer > 0"),
    Rule("model.layers", _positive_int, "must be an integer > 0"),
    Rule("model.dim", _positive_int, "must be an integer > 0"),
    Rule(
        "model.activation",
        lambda v: v in ACTIVATION_NAMES,
        f"must be one of {', '.join(ACTIVATION_NAMES)}",
    ),
    Rule("data.val_fraction", lambda v: _number(v) and 0 < v < 1, "must be in (0, 1)"),
    Rule("data.test_fraction", _fraction, "must be in [0, 1)"),
    Rule("data.n_samples", _positive_int, "must be an integer > 0"),
    Rule("data.n_classes", _positive_int, "must be an integer > 0"),
    Rule("data.image_size", _positive_int, "must be an integer > 0"),
    Rule("callbacks.early_stopping.patience", _positive_int, "must be an integer > 0"),
    Rule("callbacks.early_stopping.min_delta", lambda v: _number(v) and v >= 0, "must be >= 0"),
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


@dataclass(frozen=True)
class DataFacts:
    """What a run's data is, known before loading it into tensors."""

    task: Task
    sample_shape: tuple[int, ...]  # of one sample: (C, H, W) for images, (F,) for tables
    n_samples: int
    source: str  # for messages: "data=csv (my.csv)"


def check_data(cfg: DictConfig) -> DataFacts | None:
    """The data file exists, reads, holds finite numbers and fits `data.task`; None when
    the data is a loader of the user's own that hpsweep cannot look into."""
    data = cfg.get("data")
    if data is None or "_target_" not in data:
        return None
    loader = str(data._target_).rsplit(".", 1)[-1]
    if loader == "load_digits":
        return DataFacts("classification", (1, 8, 8), 1797, "data=digits")
    if loader == "make_synthetic":
        size = data.get("image_size", 8)
        return DataFacts(
            "classification", (1, size, size), data.get("n_samples", 600), "data=synthetic"
        )
    if loader not in ("load_csv", "load_npz"):
        return None
    if OmegaConf.is_missing(data, "path"):
        raise ConfigError("data.path is required: add data.path=<file>")
    path = Path(data.path)
    if not path.is_file():
        raise ConfigError(f"data file not found: {path} (data.path, relative to {Path.cwd()})")
    target = None
    if loader == "load_csv":
        if OmegaConf.is_missing(data, "target"):
            raise ConfigError("data.target is required: add data.target=<column name>")
        target = str(data.target)
    task, sample_shape, n_samples = _file_facts(
        path.resolve(), path.stat().st_mtime_ns, target, str(data.get("task", "auto"))
    )
    kind = "csv" if target is not None else "npz"
    return DataFacts(task, sample_shape, n_samples, f"data={kind} ({path})")


@lru_cache(maxsize=16)
def _file_facts(
    path: Path, mtime_ns: int, target: str | None, task: str
) -> tuple[Task, tuple[int, ...], int]:
    # A sweep validates one composed config per searched value: read each file once.
    x, y = read_csv(path, target) if target is not None else read_npz(path)
    return resolve_task(y, task), tuple(x.shape[1:]), len(x)


def check_fits_data(cfg: DictConfig, facts: DataFacts) -> None:
    """The split leaves samples to train and validate on; the model takes the samples."""
    data = cfg.data
    split_sizes(facts.n_samples, data.get("val_fraction", 0.2), data.get("test_fraction", 0.2))
    model = cfg.get("model")
    is_cnn = model is not None and str(model.get("_target_", "")).endswith(".CNN")
    if is_cnn and len(facts.sample_shape) != 3:
        raise ConfigError(
            f"model=cnn needs image data, samples shaped (channels, height, width); "
            f"{facts.source} has samples of shape {facts.sample_shape}: "
            "use model=mlp or model=attention"
        )


def reported_metrics(facts: DataFacts | None, cfg: DictConfig) -> tuple[str, ...]:
    """The final metrics a run reports (metrics.json), as far as its data tells."""
    if facts is None:
        return METRICS
    has_test = split_sizes(
        facts.n_samples, cfg.data.get("val_fraction", 0.2), cfg.data.get("test_fraction", 0.2)
    )[2]
    return tuple(
        metric
        for metric in METRICS
        if (facts.task == "classification" or not metric.endswith("/acc"))
        and (has_test or not metric.startswith("test/"))
    )


def check_metrics(cfg: DictConfig, facts: DataFacts | None) -> None:
    """objective.metric is reported by this run; every callback monitors a per-epoch
    metric; every mode agrees with its metric's direction."""
    reported = reported_metrics(facts, cfg)
    objective = cfg.get("objective")
    metrics = objective_metrics(objective.metric) if objective and "metric" in objective else []
    for metric in metrics:
        if metric in reported:
            continue
        context = ""
        if facts is not None:
            notes = [facts.task] + ([] if "test/loss" in reported else ["no test split"])
            context = f" on {facts.source} ({', '.join(notes)})"
        raise ConfigError(
            f"objective.metric={metric} is not reported by this run{context}; "
            f"it reports: {', '.join(reported)}"
        )
    epoch_metrics = tuple(m for m in EPOCH_METRICS if m in reported)
    for name, node in (cfg.get("callbacks") or {}).items():
        if isinstance(node, DictConfig) and "monitor" in node and node.monitor not in epoch_metrics:
            raise ConfigError(
                f"callbacks.{name}.monitor={node.monitor} is not reported after every epoch; "
                f"monitor one of: {', '.join(epoch_metrics)}"
            )
    pairs = [("objective", "metric", objective)]
    pairs += [(f"callbacks.{n}", "monitor", c) for n, c in (cfg.get("callbacks") or {}).items()]
    for prefix, metric_key, node in pairs:
        if not isinstance(node, DictConfig) or metric_key not in node or "mode" not in node:
            continue
        metric, mode = node[metric_key], node.mode
        if not _each(mode, ("min", "max")):
            raise ConfigError(f"invalid value {prefix}.mode={mode!r}: must be min or max")
        if not isinstance(metric, str):  # several objectives: each mode against its metric
            check_modes(prefix, objective_metrics(metric), objective_metrics(mode))
            continue
        if mode != metric_direction(metric):
            better = "higher" if metric_direction(metric) == "max" else "lower"
            raise ConfigError(
                f"{prefix}.mode={mode} contradicts {prefix}.{metric_key}={metric}, which is "
                f"better {better}: leave {prefix}.mode out (it follows the metric) or set "
                f"{prefix}.mode={metric_direction(metric)}"
            )


def check_modes(prefix: str, metrics: list[str], modes: list[str]) -> None:
    """objective.mode=[...] beside objective.metric=[...]: as many, each its metric's."""
    if len(modes) != len(metrics):
        raise ConfigError(
            f"{prefix}.mode lists {len(modes)} directions for {len(metrics)} metrics "
            f"({', '.join(metrics)}): leave {prefix}.mode out (it follows the metrics)"
        )
    for metric, mode in zip(metrics, modes, strict=True):
        if mode != metric_direction(metric):
            raise ConfigError(
                f"{prefix}.mode={mode} contradicts {metric}: leave {prefix}.mode out "
                f"(it follows the metrics) or set {metric_direction(metric)} for it"
            )


def check_device(cfg: DictConfig) -> None:
    """trainer.device=cuda on a machine where torch sees a GPU."""
    if OmegaConf.select(cfg, "trainer.device") != "cuda":
        return
    import torch  # only here: asking about CUDA needs torch, and only this case asks

    if not torch.cuda.is_available():
        build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
        raise ConfigError(
            f"trainer.device=cuda but torch sees no CUDA device (torch {torch.__version__}, "
            f"{build}): use trainer.device=auto or trainer.device=cpu"
        )


def validate(cfg: DictConfig) -> None:
    """Raise ConfigError naming the first invalid value of a composed train config."""
    check_rules(cfg)
    check_model_shape(cfg)
    try:
        facts = check_data(cfg)
        if facts is not None:
            check_fits_data(cfg, facts)
    except DataError as error:
        raise ConfigError(str(error)) from error
    check_metrics(cfg, facts)
    check_device(cfg)
