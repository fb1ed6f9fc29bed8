"""A PBT sweep's edges: its space checked before anything is written, each segment's
row, and at the end the winner as a schedule.

The winner is the member with the best value at the last epoch; its model was trained
by the chain of segments its state came through (`Population.lineage`: an exploit
hands a member another's past). `best_schedule.yaml` lists that chain's hyperparameters
per range of epochs; for an app with a `trainer.schedule` key (train.py) best.yaml is
the last segment's composed config with the schedule set, so that

    python train.py --config-path <sweep dir> --config-name best

replays the schedule in one plain run (hpsweep.training.callbacks.ScheduleReplay).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, OmegaConf

from hpsweep.search.plan import SweepPlan
from hpsweep.search.population import Population, Segment, schedule_of
from hpsweep.sweep.channel import registered_job_dir
from hpsweep.sweep.results import BEST_FILE
from hpsweep.sweep.settings import pbt_space_problem

log = logging.getLogger(__name__)

SCHEDULE_FILE = "best_schedule.yaml"
SCHEDULE_KEY = "trainer.schedule"  # train.py's: replays a schedule file


def check_population_space(plan: SweepPlan) -> None:
    """One line and exit 1, before any folder exists, for a space PBT cannot perturb
    (train.py's bad-input callback says the same earlier)."""
    problem = pbt_space_problem(len(plan.space.distributions()), len(plan.space.conditional))
    if problem is not None:
        log.error("%s", problem)
        raise SystemExit(1)


def stop_without_state(job: int) -> None:
    """The app saved no state to continue a member from: say what to add, exit 1."""
    log.error(
        "hydra/sweeper=pbt: job %d saved no training state, so its member cannot go on: "
        "save it every epoch with SweepTrial.current().save_state({...}, step=epoch) and "
        "start from SweepTrial.current().load_state() (README: your own app)",
        job,
    )
    raise SystemExit(1)


def segment_columns(segment: Segment) -> dict[str, Any]:
    """A segment's own columns of results.csv (hpsweep.sweep.results.PBT_COLUMNS)."""
    return {
        "member": segment.member,
        "segment": segment.index,
        "from_epoch": segment.start + 1,
        "to_epoch": segment.end,
        "exploited_from": "" if segment.exploited_from is None else segment.exploited_from,
    }


def finish_population(population: Population, sweep_dir: Path, config: DictConfig) -> Path | None:
    """best_schedule.yaml (and best.yaml, for an app that replays schedules); returns
    its path. (The segments' states went as the population moved on:
    PopulationLoop.release_states.)"""
    best = population.best()
    if best is None:
        return None
    lineage = population.lineage(best)
    path = sweep_dir / SCHEDULE_FILE
    record = {
        "member": best.member,
        "value": best.value,
        "epochs": best.end,
        "schedule": schedule_of(lineage),
        "lineage": [f"member {s.member} epochs {s.start + 1}-{s.end}" for s in lineage],
    }
    path.write_text(yaml.safe_dump(record, sort_keys=False))
    log.info(
        "PBT: member %d is best (%s at epoch %d); its schedule: %s",
        best.member,
        best.value,
        best.end,
        path,
    )
    replay_config(best, path, sweep_dir, config)
    return path


def replay_config(best: Segment, schedule: Path, sweep_dir: Path, config: DictConfig) -> None:
    """best.yaml: the best member's last composed config; for an app that has
    SCHEDULE_KEY, set to replay the schedule, and the command that runs it logged."""
    job_dir = registered_job_dir(sweep_dir, best.job)
    saved = None if job_dir is None else job_dir / ".hydra" / "config.yaml"
    if saved is None or not saved.is_file():  # Hydra saves none with hydra.output_subdir=null
        return
    composed = OmegaConf.load(saved)
    replays = OmegaConf.select(composed, SCHEDULE_KEY, default="absent") != "absent"
    if replays:
        OmegaConf.update(composed, SCHEDULE_KEY, str(schedule.resolve()))
    OmegaConf.save(composed, sweep_dir / BEST_FILE)
    if replays:
        log.info(
            "best.yaml replays that schedule in one run: python %s.py --config-path %s "
            "--config-name best",
            config.hydra.job.name,
            sweep_dir.resolve(),
        )
