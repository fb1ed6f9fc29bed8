"""What a run and a sweep show in TensorBoard's HParams dashboard, by tables."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf
from tensorboard.plugins.hparams import summary_v2 as hp

from hpsweep.sweep.spec import SweepSpec
from hpsweep.tensorboard.hparams import discrete, run_hparams, sweep_domains

CFG = OmegaConf.create(
    {
        "optimizer": {"_target_": "torch.optim.SGD", "lr": 0.01, "momentum": 0.9, "betas": [1, 2]},
        "regularization": {"dropout": 0.2, "weight_decay": 0.0},
        "trainer": {"epochs": 5, "seed": 0},
    }
)


def spec_of(overrides: list[str]) -> SweepSpec:
    return SweepSpec.parse(overrides, groups=["optimizer", "model"])


CHOICES = {"optimizer": "sgd", "regularization": "dropout", "hydra/sweeper": "tpe"}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ([], {"optimizer": "sgd", "regularization": "dropout"}),
        (
            ["optimizer.lr=0.01"],
            {"optimizer": "sgd", "regularization": "dropout", "optimizer.lr": 0.01},
        ),
        (
            ["regularization=dropout"],
            {
                "optimizer": "sgd",
                "regularization": "dropout",
                "regularization.dropout": 0.2,
                "regularization.weight_decay": 0.0,
            },
        ),
        (
            ["optimizer=sgd", "hydra.sweeper.n_trials=3"],
            {
                "optimizer": "sgd",
                "regularization": "dropout",
                "optimizer.lr": 0.01,
                "optimizer.momentum": 0.9,
                "optimizer.betas": "[1, 2]",
            },
        ),
        (["trainer.seed=3"], {"optimizer": "sgd", "regularization": "dropout", "trainer.seed": 0}),
    ],
    ids=["choices-only", "leaf", "group-leaves", "lists-as-text-no-hydra-keys", "value-from-cfg"],
)
def test_run_hparams(overrides: list[str], expected: dict) -> None:
    assert run_hparams(CFG, CHOICES, overrides) == expected


def leaves_of(group: str, option: str) -> dict:
    """Leaves of optimizer=adam / sgd: lr differs, eps is the same, momentum is sgd's only."""
    if option == "sgd":
        return {"optimizer.lr": 0.01, "optimizer.eps": 1e-8, "optimizer.momentum": 0.9}
    return {"optimizer.lr": 0.001, "optimizer.eps": 1e-8}


@pytest.mark.parametrize(
    ("override", "name", "domain"),
    [
        ("optimizer.lr=interval(1e-4,1e-1)", "optimizer.lr", hp.RealInterval(1e-4, 1e-1)),
        ("model.depth=int(interval(1,4))", "model.depth", hp.IntInterval(1, 4)),
        ("optimizer.lr=tag(log,interval(1e-5,1))", "optimizer.lr", hp.RealInterval(1e-5, 1.0)),
        ("model.width=64,128", "model.width", hp.Discrete([64, 128])),
        ("model.width=choice(64,128)", "model.width", hp.Discrete([64, 128])),
        ("model.depth=range(1,4)", "model.depth", hp.Discrete([1, 2, 3])),
        ("optimizer.lr=1e-3,0.1,1", "optimizer.lr", hp.Discrete([1e-3, 0.1, 1.0])),
        ("optimizer=adam,sgd", "optimizer", hp.Discrete(["adam", "sgd"])),
        ("optimizer=adam,sgd", "optimizer.lr", hp.Discrete([0.001, 0.01])),
    ],
    ids=[
        "interval",
        "int-interval",
        "log-interval",
        "list",
        "choice",
        "range",
        "mixed",
        "group",
        "group-leaf",
    ],
)
def test_sweep_domains(override: str, name: str, domain: hp.Domain) -> None:
    domains = sweep_domains(spec_of([override, "trainer.epochs=3"]), leaves_of)
    assert repr(domains[name]) == repr(domain)
    assert "trainer.epochs" not in domains  # not swept


@pytest.mark.parametrize("leaf", ["optimizer.eps", "optimizer.momentum"])
def test_group_leaves_that_do_not_differ_are_left_out(leaf: str) -> None:
    assert leaf not in sweep_domains(spec_of(["optimizer=adam,sgd"]), leaves_of)


@pytest.mark.parametrize(
    "overrides",
    [
        ["optimizer=adam,sgd", "optimizer.lr=interval(1e-4,1e-1)"],
        ["optimizer.lr=interval(1e-4,1e-1)", "optimizer=adam,sgd"],
    ],
    ids=["group-first", "leaf-first"],
)
def test_a_swept_leaf_keeps_its_own_domain(overrides: list[str]) -> None:
    domains = sweep_domains(spec_of(overrides), leaves_of)
    assert repr(domains["optimizer.lr"]) == repr(hp.RealInterval(1e-4, 1e-1))


def test_discrete_needs_one_type() -> None:
    assert discrete([True, "a"]).values == ["True", "a"]
