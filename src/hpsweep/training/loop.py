"""The training loop: train(cfg) -> outcome = build, fit, final metrics.

Everything a run is made of comes from the composed config through Hydra's
`instantiate`: data (conf/data), model (conf/model), optimizer (conf/optimizer),
learning-rate schedule (conf/scheduler). The loop slices batches from in-memory
tensors, steps the schedule once per epoch, and evaluates on the validation split
after every epoch and on the test split at the end.

With `trainer.save_state` (the default) the run saves its whole state into
`<output dir>/state/` as it trains (training.resume) and, re-launched into the same
folder (a resumed sweep does that; a single run with `hydra.run.dir=<its folder>`),
continues after its last saved epoch. Ctrl-C and SIGTERM wait for the epoch to end,
then its state is saved (training.epoch_interrupts).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from torch import nn
from torch.nn import functional as F

from hpsweep.sweep.interruption import is_interruption
from hpsweep.sweep.outcome import RunStatus, TrialOutcome, utc_now
from hpsweep.sweep.saved_state import STATE_DIR, StateFile, config_key
from hpsweep.sweep.trial import SweepTrial
from hpsweep.tensorboard.hparams import HParamValue
from hpsweep.training.callbacks import RunState, ScheduleReplay, SweepPruning, TrainingCallback
from hpsweep.training.data import Splits
from hpsweep.training.epoch_interrupts import EpochInterrupts
from hpsweep.training.garbage_collection import startup_objects_frozen
from hpsweep.training.objective import objective_metrics, objective_values
from hpsweep.training.resume import SessionClock, StateKeeper
from hpsweep.training.trusted_targets import TRUSTED_TARGETS
from hpsweep.training.validation import validate

log = logging.getLogger(__name__)

# Evaluation runs without gradients, so it can take far larger slices than training.
EVAL_CHUNK = 4096


def resolve_device(name: str, slot: int | None = None) -> torch.device:
    """`auto` picks CUDA when there is a GPU, else the CPU. In a sweep with several
    trials in flight, `slot` (which of them this is) spreads them over the GPUs: slot s
    trains on GPU s mod k, so k trials on k GPUs never share one while another idles."""
    if name == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        if slot is None:
            return torch.device("cuda")
        return torch.device("cuda", slot % torch.cuda.device_count())
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("trainer.device=cuda but torch sees no CUDA device")
    return torch.device(name)


def cpu_threads(configured: int | None) -> int | None:
    """trainer.num_threads; unset, a job that shares the machine with other workers of
    Hydra's joblib launcher takes its share of the cores, so 2 workers on 2 cores do
    not run 4 threads. None keeps torch's default."""
    if configured:
        return configured
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None
    workers = OmegaConf.select(HydraConfig.get(), "launcher.n_jobs")
    cores = os.cpu_count() or 1
    if workers == -1:  # joblib: one worker per core
        return 1
    if isinstance(workers, int) and workers > 1:
        return max(1, cores // workers)
    return None


def make_loss(task: str, label_smoothing: float) -> nn.Module:
    if task == "classification":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    return nn.MSELoss()


@torch.no_grad()
def evaluate(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str, loss_scale: float = 1.0
) -> dict[str, float]:
    """Mean loss (unsmoothed, times `loss_scale`) and, for classification, accuracy on
    one split."""
    model.eval()
    classification = task == "classification"
    # Sums, not means: the chunks need no weighing, and the functional losses skip
    # building a loss module on every call (this runs after every epoch).
    total_loss = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        out = model(xb)
        if classification:
            total_loss += F.cross_entropy(out, yb, reduction="sum")
            correct += (out.argmax(dim=1) == yb).sum()
        else:
            total_loss += F.mse_loss(out, yb, reduction="sum")
    # One transfer for both numbers: .tolist() is a CPU-GPU sync point.
    loss_sum, correct_count = torch.stack((total_loss, correct)).tolist()
    # MSELoss's mean is over every element, CrossEntropyLoss's over samples.
    metrics = {"loss": loss_sum / (len(x) if classification else y.numel()) * loss_scale}
    if classification:
        metrics["acc"] = correct_count / len(x)
    return metrics


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: nn.Module,
    data: Splits,
    batch_size: int,
    augment: float,
    generator: torch.Generator,
) -> float:
    """One pass over the shuffled training split; returns the mean training loss."""
    model.train()
    n = len(data.x_train)
    # The permutation is drawn on the CPU from a seeded generator: the batch order
    # is the same on every device.
    order = torch.randperm(n, generator=generator).to(data.x_train.device)
    # Each batch's loss is kept as a tensor and summed once at the end: one op a step
    # instead of two, and no sync with the device until then.
    losses: list[torch.Tensor] = []
    for start in range(0, n, batch_size):
        index = order[start : start + batch_size]
        xb, yb = data.x_train[index], data.y_train[index]
        if augment > 0:
            # Inputs are standardized, so `augment` is the noise's share of a feature's std.
            noise = torch.randn(xb.shape, generator=generator).to(xb.device)
            xb = xb + augment * noise
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    # Batches are full but the last: weigh each mean loss by its batch's size.
    sizes = torch.full(
        (len(losses),), float(batch_size), dtype=losses[0].dtype, device=losses[0].device
    )
    sizes[-1] = n - batch_size * (len(losses) - 1)
    return (torch.stack(losses) @ sizes).item() / n * loss_to_target_units(data)


def loss_to_target_units(data: Splits) -> float:
    """What turns a loss on standardized regression targets into the MSE in the
    target's own units (y_std**2); 1 for classification."""
    return data.y_std**2


@dataclass
class Parts:
    """Everything one run is made of, built from its config."""

    data: Splits
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None  # None: a constant lr
    loss_fn: nn.Module
    callbacks: list[TrainingCallback]
    generator: torch.Generator  # batch order and augmentation


def build(cfg: DictConfig, extra_callbacks: Sequence[TrainingCallback] = ()) -> Parts:
    """Seed, then instantiate data, model, optimizer, schedule and callbacks from `cfg`."""
    threads = cpu_threads(cfg.trainer.num_threads)
    if threads:
        torch.set_num_threads(threads)
    trial = SweepTrial.current()
    device = resolve_device(cfg.trainer.device, trial.slot if trial is not None else None)
    torch.manual_seed(cfg.trainer.seed)  # weights and dropout masks
    generator = torch.Generator().manual_seed(cfg.trainer.seed)

    data: Splits = instantiate(cfg.data, _execution_whitelist_=TRUSTED_TARGETS).to(device)
    reg = cfg.regularization
    model = instantiate(cfg.model, _execution_whitelist_=TRUSTED_TARGETS)(
        input_shape=data.input_shape, num_outputs=data.num_outputs, dropout=reg.dropout
    ).to(device)
    # _convert_="all" hands torch plain lists (betas) instead of OmegaConf containers.
    optimizer = instantiate(cfg.optimizer, _convert_="all", _execution_whitelist_=TRUSTED_TARGETS)(
        model.parameters()
    )
    scheduler = None  # scheduler=constant: the optimizer's lr, unscheduled
    if "_target_" in cfg.scheduler:
        scheduler = instantiate(
            cfg.scheduler, _convert_="all", _execution_whitelist_=TRUSTED_TARGETS
        )(optimizer)
    # Pruning first and always (not a config option), then the configured ones, then
    # the caller's own.
    callbacks: list[TrainingCallback] = [
        SweepPruning(
            objective_metrics(OmegaConf.select(cfg, "objective.metric", default="val/loss"))
        )
    ]
    callbacks += [
        instantiate(node, _execution_whitelist_=TRUSTED_TARGETS)
        for node in (cfg.get("callbacks") or {}).values()
        if node is not None
    ]
    schedule = OmegaConf.select(cfg, "trainer.schedule", default=None)
    if schedule:  # a PBT winner's schedule, replayed (hpsweep.search.population_schedule)
        callbacks.append(ScheduleReplay(schedule, optimizer, scheduler))
    callbacks.extend(extra_callbacks)
    log.info(
        "training %s on %s (%d train / %d val / %d test samples, %s) on %s, %d threads",
        type(model).__name__,
        cfg.data._target_.rsplit(".", 1)[-1],
        len(data.x_train),
        len(data.x_val),
        len(data.x_test),
        data.task,
        device,
        torch.get_num_threads(),
    )
    loss_fn = make_loss(data.task, reg.label_smoothing)
    return Parts(data, model, optimizer, scheduler, loss_fn, callbacks, generator)


def fit(
    parts: Parts,
    run: RunState,
    batch_size: int,
    augment: float,
    keeper: StateKeeper | None = None,
    clock: SessionClock | None = None,
) -> dict[str, float]:
    """Train epoch by epoch, from the one after `run.epoch` (a resumed run's), until the
    last one or a callback's stop; returns the last epoch's metrics. Sets
    `run.stop_reason` (None: every epoch ran). With a `keeper`, saves the state as it
    goes, and at the end of the epoch in which a signal came, before raising it."""
    status = RunStatus.FAILED  # until the loop ends without raising
    interrupts = EpochInterrupts()
    try:
        for callback in parts.callbacks:
            callback.on_fit_start(run)
        with interrupts.installed():
            for epoch in range(run.epoch + 1, run.max_epochs + 1):
                run.epoch = epoch
                train_and_validate(parts, run, batch_size, augment)
                if keeper is not None and clock is not None:
                    keeper.after_epoch(parts, run, clock, force=interrupts.pending)
                interrupts.deliver()
                if run.stop_reason is not None:
                    break
        status = run.stop_reason or RunStatus.COMPLETE
    finally:
        for callback in parts.callbacks:
            callback.on_fit_end(run, status)
    return run.last_metrics


def train_and_validate(parts: Parts, run: RunState, batch_size: int, augment: float) -> None:
    """One epoch: train, step the schedule, validate, log, and the callbacks' turn."""
    epoch = run.epoch
    epoch_start = time.perf_counter()
    lr = parts.optimizer.param_groups[0]["lr"]
    train_loss = train_one_epoch(
        parts.model,
        parts.optimizer,
        parts.loss_fn,
        parts.data,
        batch_size,
        augment,
        parts.generator,
    )
    if parts.scheduler is not None:
        parts.scheduler.step()
    val = evaluate(
        parts.model,
        parts.data.x_val,
        parts.data.y_val,
        parts.data.task,
        loss_to_target_units(parts.data),
    )
    last = {"train/loss": train_loss, **{f"val/{k}": v for k, v in val.items()}}
    run.last_metrics.clear()
    run.last_metrics.update(last)
    log.info(
        "epoch %*d/%d  %s  lr %.3g  (%.2fs)",
        len(str(run.max_epochs)),
        epoch,
        run.max_epochs,
        "  ".join(f"{name} {value:.4f}" for name, value in last.items()),
        lr,
        time.perf_counter() - epoch_start,
    )
    if not math.isfinite(train_loss):
        log.warning("training loss is %s at epoch %d: the run diverged", train_loss, epoch)
        run.stop(RunStatus.DIVERGED)
    epoch_metrics = {
        **last,
        "lr": lr,
        "time/epoch_seconds": time.perf_counter() - epoch_start,
        "model/params": parameter_count(parts.model),
    }
    for callback in parts.callbacks:
        callback.on_epoch_end(run, epoch_metrics)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters: an objective, `objective.metric=[val/loss,model/params]`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def final_metrics(parts: Parts) -> dict[str, float]:
    """The final model (the best epoch's, when early stopping restored it) on val and test."""
    data = parts.data
    scale = loss_to_target_units(data)
    val = evaluate(parts.model, data.x_val, data.y_val, data.task, scale)
    final = {f"val/{k}": v for k, v in val.items()}
    if len(data.x_test):
        test = evaluate(parts.model, data.x_test, data.y_test, data.task, scale)
        final.update({f"test/{k}": v for k, v in test.items()})
    return final


@startup_objects_frozen()
def train(
    cfg: DictConfig,
    output_dir: Path,
    hparams: dict[str, HParamValue] | None = None,
    extra_callbacks: Sequence[TrainingCallback] = (),
) -> TrialOutcome:
    """Train the model that `cfg` composes, writing its files into `output_dir`.

    Returns the run's outcome (hpsweep.sweep.outcome): its status, the objective
    (cfg.objective.metric) as its value, the epochs trained, and as metrics train/loss
    of the last epoch, val/loss and test/loss of the final model (and val/acc, test/acc
    on classification), `best/<monitor>` and `best_epoch` when early stopping watches a
    metric. The callbacks' `on_train_end` receive that same outcome (TensorBoard's
    session status is its status); a run that raised ends with a failed one. `hparams`
    are what TensorBoard shows for the run (see hpsweep.tensorboard.hparams).
    `extra_callbacks` run after those the config lists: hooks of a caller's own, such
    as an Optuna loop reporting each epoch.
    """
    validate(cfg)
    clock = SessionClock(started=utc_now(), seconds_before=0.0, session_start=time.perf_counter())
    parts = build(cfg, extra_callbacks)
    run = new_run(cfg, parts, output_dir, hparams)
    keeper = None
    trial = SweepTrial.current()
    if OmegaConf.select(cfg, "trainer.save_state", default=True):
        keeper = StateKeeper(StateFile(output_dir / STATE_DIR, config_key(cfg)))
        inherit = trial.inherited_state if trial is not None else None
        if not keeper.resume(parts, run, clock, inherit) and keeper.restore_failed:
            parts = build(cfg, extra_callbacks)  # half restored: start afresh
            run = new_run(cfg, parts, output_dir, hparams)
        run.saves_state = True
    outcome: TrialOutcome | None = None
    try:
        fit_start, first_epoch = time.perf_counter(), run.epoch + 1
        last = fit(parts, run, cfg.trainer.batch_size, cfg.regularization.augment, keeper, clock)
        metrics = {"train/loss": last["train/loss"], **final_metrics(parts), **run.summary}
        # The costs beside the losses: size, and this session's mean seconds an epoch.
        metrics["model/params"] = float(parameter_count(parts.model))  # a float: a final/ scalar
        epochs_now = max(run.epoch - first_epoch + 1, 1)
        metrics["time/epoch_seconds"] = (time.perf_counter() - fit_start) / epochs_now
        outcome = run_outcome(cfg, run, metrics, clock.started, clock.seconds())
    except BaseException as error:  # KeyboardInterrupt too: the callbacks close their files
        # A signal's stop, or the process leaving mid-run (submitit's requeue exits):
        # either way it may continue from its state, so nothing is final yet.
        run.interrupted = is_interruption(error) or isinstance(error, SystemExit)
        outcome = TrialOutcome.of_error(error, started=clock.started, seconds=clock.seconds())
        raise
    finally:
        for callback in parts.callbacks:
            callback.on_train_end(run, outcome)
    if keeper is not None:
        keeper.finish(parts, run, clock, keep=trial is not None and trial.keep_state)
        log.debug("saved its state %d times in %.3fs", keeper.saves, keeper.save_seconds)
    log.info(
        "%s after %d epochs: %s",
        outcome.status,
        run.epoch,
        "  ".join(f"{k} {v:.4f}" for k, v in outcome.metrics.items() if isinstance(v, float)),
    )
    return outcome


def new_run(
    cfg: DictConfig, parts: Parts, output_dir: Path, hparams: dict[str, HParamValue] | None
) -> RunState:
    trial = SweepTrial.current()
    return RunState(
        cfg=cfg,
        model=parts.model,
        output_dir=output_dir,
        hparams=dict(hparams or {}),
        max_epochs=cfg.trainer.epochs,
        log_dir=trial.log_dir if trial is not None else None,
    )


def run_outcome(
    cfg: DictConfig, run: RunState, metrics: dict[str, Any], started: str, seconds: float
) -> TrialOutcome:
    """The outcome of a run that trained to its end or a callback's stop."""
    status = run.stop_reason or RunStatus.COMPLETE
    values = objective_values(cfg.objective, metrics) if status.has_value else None
    several = values is not None and len(values) > 1  # objective.metric=[...]
    return TrialOutcome(
        status=status,
        value=None if values is None else values[0],
        values=tuple(values) if several and values is not None else None,
        epochs=run.epoch,
        seconds=seconds,
        reason="a loss became NaN or infinite" if status == RunStatus.DIVERGED else "",
        pruned_at=run.epoch if status == RunStatus.PRUNED else None,
        started=started,
        finished=utc_now(),
        metrics=metrics,
    )
