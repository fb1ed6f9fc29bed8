"""Per-trial reads that do not grow with the study: the progress tally kept between
reads agrees with a fresh read, the asker claims exactly n_trials, its own study
or one another process fills, and the job returns kept for Hydra hold no configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from hydra.core.utils import JobReturn
from optuna.trial import TrialState

from hpsweep.search.bookkeeping import STATUS_ATTR, SURPLUS_ATTR, tell_arguments
from hpsweep.search.returns_on_disk import JobReturnOnDisk
from hpsweep.search.study import TrialAsker
from hpsweep.search.tally import StudyTally
from hpsweep.sweep.outcome import RunStatus, TrialOutcome

optuna.logging.set_verbosity(optuna.logging.WARNING)

# (status, value) of trials as they end, in order
ENDINGS = [
    [(RunStatus.COMPLETE, 0.5), (RunStatus.PRUNED, 0.9), (RunStatus.COMPLETE, 0.2)],
    [(RunStatus.FAILED, None), (RunStatus.EARLY_STOPPED, 0.7), (RunStatus.DIVERGED, None)],
    [(RunStatus.COMPLETE, 0.3), (RunStatus.COMPLETE, 0.3), (RunStatus.COMPLETE, 0.1)],
]


def end(
    study: optuna.Study, trial: optuna.Trial, status: RunStatus, value: float | None
) -> float | None:
    outcome = TrialOutcome(status, value)
    trial.set_user_attr(STATUS_ATTR, str(status))
    told, state = tell_arguments(outcome)
    study.tell(trial, told, state=state)
    return told


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
@pytest.mark.parametrize("endings", ENDINGS, ids=["mixed", "few-values", "ties"])
def test_a_tally_kept_between_reads_equals_a_fresh_read(
    endings: list[tuple[RunStatus, float | None]], direction: str
) -> None:
    study = optuna.create_study(direction=direction)
    done_before = study.ask()
    end(study, done_before, RunStatus.COMPLETE, 0.4)
    running = [study.ask() for _ in endings]  # in flight at the read
    other = study.ask()  # another process's, still running at the end
    tally = StudyTally.read(study)
    assert tally.counts == {"complete": 1, "running": len(endings) + 1}

    for trial, (status, value) in zip(running, endings, strict=True):
        tally.add(trial.number, str(status), end(study, trial, status, value))
        fresh = StudyTally.read(study)
        assert (tally.done, tally.counts, tally.best) == (fresh.done, fresh.counts, fresh.best)
    assert other.number in tally.running
    if tally.best is not None:
        assert tally.best_text() == f"best {study.best_value:.6g} (trial {study.best_trial.number})"


def test_the_asker_claims_exactly_n_trials_of_its_own_study() -> None:
    study = optuna.create_study()
    asker = TrialAsker(study, n_trials=3)
    asked = [asker() for _ in range(5)]
    assert [t.number if t else None for t in asked] == [0, 1, 2, None, None]
    assert len(study.trials) == 3  # nothing asked beyond


def test_a_resumed_full_study_asks_nothing() -> None:
    study = optuna.create_study()
    for _ in range(3):
        study.tell(study.ask(), 0.1)
    assert TrialAsker(study, n_trials=3)() is None
    assert len(study.trials) == 3


def test_trials_another_process_asked_take_the_last_places() -> None:
    study = optuna.create_study()
    asker = TrialAsker(study, n_trials=4)
    assert asker() is not None  # trial 0
    others = [study.ask() for _ in range(3)]  # another process: trials 1-3
    assert asker() is None  # trial 4 is surplus: recorded as such, never run
    assert asker() is None  # and now the asker knows the study is full
    surplus = [t for t in study.trials if SURPLUS_ATTR in t.user_attrs]
    assert [t.number for t in surplus] == [4]
    assert surplus[0].state == TrialState.FAIL
    assert len(study.trials) == 5 and all(t.number < 4 for t in others)


@pytest.mark.parametrize(
    ("output_subdir", "kept_as"), [(".hydra", JobReturnOnDisk), ("null", JobReturn)]
)
def test_a_sweep_keeps_its_jobs_configs_on_disk_not_in_memory(
    hydra_sweep_runner: Any, tmp_path: Path, output_subdir: str, kept_as: type
) -> None:
    """The JobReturns a sweep gives Hydra read their configs back from each job's folder
    (where Hydra saved them); with no such folder they keep them in memory."""
    sweep = hydra_sweep_runner(
        calling_file=None,
        calling_module="hydra.test_utils.a_module",
        task_function=lambda cfg: float(cfg.x),
        config_path=None,
        config_name=None,
        overrides=[
            "hydra/sweeper=hpsweep",
            "hydra.sweeper.n_jobs=2",
            "+x=0.25,0.5,0.75",
            f"hydra.output_subdir={output_subdir}",
        ],
        temp_dir=tmp_path,
    )
    with sweep:  # the sweep folder lives until the block ends
        returns = [job_return for batch in sweep.returns for job_return in batch]
        assert [type(job_return) for job_return in returns] == [kept_as] * 3
        assert [job_return.cfg.x for job_return in returns] == [0.25, 0.5, 0.75]
        assert [job_return.return_value for job_return in returns] == [0.25, 0.5, 0.75]
        assert [job_return.hydra_cfg.hydra.job.num for job_return in returns] == [0, 1, 2]
        assert [job_return.overrides for job_return in returns] == [
            [f"+x={x}"] for x in (0.25, 0.5, 0.75)
        ]
