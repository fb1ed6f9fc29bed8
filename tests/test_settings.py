"""The hpsweep sweeper's settings: invalid values in one line, and the warning when a
successive-halving or Hyperband sweep can prune nothing."""

from __future__ import annotations

from typing import Any

import pytest

from hpsweep.hydra_callbacks.validate import pruning_warning
from hpsweep.sweep.settings import SettingsError, check_settings, nothing_to_prune
from tests.conftest import ComposeTrain

SHA = "optuna.pruners.SuccessiveHalvingPruner"
HYPERBAND = "optuna.pruners.HyperbandPruner"
VALID = {"search": "auto", "direction": "minimize", "n_trials": 20, "n_jobs": 1}

INVALID = [
    ({"n_trials": 0}, "invalid value hydra.sweeper.n_trials=0: must be an integer >= 1"),
    ({"n_trials": -3}, "hydra.sweeper.n_trials=-3"),
    ({"n_trials": True}, "hydra.sweeper.n_trials=True"),
    ({"n_jobs": 0}, "invalid value hydra.sweeper.n_jobs=0: must be an integer >= 1"),
    ({"max_failure_rate": 2.0}, "hydra.sweeper.max_failure_rate=2.0: must be a number in [0, 1]"),
    ({"max_failure_rate": -0.1}, "hydra.sweeper.max_failure_rate=-0.1"),
    ({"search": "bayes"}, "hydra.sweeper.search=bayes: must be one of auto, grid, sample"),
    (
        {"direction": "upimize"},
        "hydra.sweeper.direction=upimize: must be minimize, maximize or a list of them",
    ),
    ({"pruner": {"_target_": SHA, "reduction_factor": 1}}, "pruner.reduction_factor=1"),
    ({"pruner": {"_target_": HYPERBAND, "min_resource": 0}}, "pruner.min_resource=0"),
]


@pytest.mark.parametrize(("changes", "message"), INVALID, ids=lambda v: str(v))
def test_invalid_settings_raise_one_line(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        check_settings({**VALID, **changes})
    assert message in str(error.value)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"max_failure_rate": 0},
        {"max_failure_rate": 1},
        {"pruner": {"_target_": SHA, "min_resource": "auto"}},
        {"pruner": {"_target_": "optuna.pruners.NopPruner"}},
    ],
    ids=str,
)
def test_valid_settings_pass(changes: dict[str, Any]) -> None:
    check_settings({**VALID, **changes})


RUNGS = [
    # (pruner, trainer.epochs, whether a warning is due)
    ({"_target_": HYPERBAND, "min_resource": 1}, 1, True),
    ({"_target_": HYPERBAND, "min_resource": 1}, 2, False),
    ({"_target_": SHA, "min_resource": 3}, 3, True),
    ({"_target_": SHA, "min_resource": 1, "min_early_stopping_rate": 2}, 9, True),
    ({"_target_": SHA, "min_resource": 1, "min_early_stopping_rate": 2}, 10, False),
    ({"_target_": SHA, "min_resource": "auto"}, 1, False),  # Optuna decides later
    ({"_target_": "optuna.pruners.MedianPruner"}, 1, False),
]


@pytest.mark.parametrize(("pruner", "epochs", "warns"), RUNGS, ids=str)
def test_nothing_to_prune(pruner: dict[str, Any], epochs: int, warns: bool) -> None:
    assert (nothing_to_prune(pruner, epochs) is not None) == warns


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        (["hydra/sweeper=hyperband", "trainer.epochs=1"], "HyperbandPruner will prune nothing"),
        (["hydra/sweeper=sha", "trainer.epochs=1"], "SuccessiveHalvingPruner will prune nothing"),
        (["hydra/sweeper=hyperband", "trainer.epochs=9"], None),
        (["hydra/sweeper=tpe", "trainer.epochs=1"], None),
    ],
)
def test_the_presets_warn_when_there_is_no_rung(
    overrides: list[str], warning: str | None, compose_train: ComposeTrain
) -> None:
    found = pruning_warning(compose_train(*overrides, hydra=True))
    if warning is None:
        assert found is None
    else:
        assert found is not None
        assert found.startswith(warning)
        assert "(trainer.epochs=1) by the first rung (epoch 1)" in found
