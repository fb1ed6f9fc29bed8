"""Hydra override grammar -> Optuna distributions, by table."""

from __future__ import annotations

import pytest
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpsweep.search.space import (
    SearchSpace,
    describe,
    grid_combinations,
    is_finite,
    search_space,
)
from hpsweep.sweep.spec import SweepSpec


def space_of(overrides: list[str], conditional: dict | None = None) -> SearchSpace:
    spec = SweepSpec.parse(overrides, conditional=conditional, groups=["optimizer", "model"])
    return search_space(spec)


TABLE = [
    # >= 2 decades: log-uniform unless tagged linear (hpsweep.sweep.spec.log_scale)
    ("optimizer.lr=interval(1e-4,1e-1)", FloatDistribution(1e-4, 0.1, log=True)),
    ("optimizer.lr=tag(linear,interval(1e-4,1e-1))", FloatDistribution(1e-4, 0.1)),
    ("optimizer.lr=interval(1e-2,1e-1)", FloatDistribution(1e-2, 0.1)),
    ("regularization.dropout=interval(0,0.7)", FloatDistribution(0, 0.7)),
    ("model.width=int(interval(1,1000))", IntDistribution(1, 1000, log=True)),
    ("optimizer.lr=tag(log,interval(1e-5,1))", FloatDistribution(1e-5, 1.0, log=True)),
    ("model.depth=int(interval(1,4))", IntDistribution(1, 4)),
    ("model.width=tag(log,int(interval(16,256)))", IntDistribution(16, 256, log=True)),
    ("optimizer=choice(adam,sgd)", CategoricalDistribution(["adam", "sgd"])),
    ("optimizer=adam,sgd,rmsprop", CategoricalDistribution(["adam", "sgd", "rmsprop"])),
    ("model.width=64,128", CategoricalDistribution([64, 128])),
    ("model.depth=range(1,4)", IntDistribution(1, 3)),  # Hydra's stop is exclusive
    ("model.depth=range(0,10,3)", IntDistribution(0, 9, step=3)),
    ("trainer.batch_size=range(32,129,32)", IntDistribution(32, 128, step=32)),
    ("regularization.dropout=range(0.0,0.3,0.1)", CategoricalDistribution([0.0, 0.1, 0.2])),
]


@pytest.mark.parametrize(("override", "expected"), TABLE, ids=[o for o, _ in TABLE])
def test_override_to_distribution(override: str, expected: BaseDistribution) -> None:
    space = space_of([override])
    assert list(space.params.values()) == [expected]
    assert space.fixed == []


def test_fixed_values_pass_through() -> None:
    space = space_of(["trainer.epochs=3", "~callbacks.early_stopping", "model=cnn"])
    assert space.params == {}
    assert space.fixed == ["trainer.epochs=3", "~callbacks.early_stopping", "model=cnn"]


@pytest.mark.parametrize(
    ("overrides", "finite", "size"),
    [
        (["optimizer=adam,sgd", "model=mlp,cnn"], True, 4),
        (["model.depth=range(1,4)", "model.width=64,128"], True, 6),
        (["optimizer=adam,sgd", "optimizer.lr=interval(1e-4,1e-1)"], False, None),
        (["model.width=tag(log,int(interval(16,256)))"], False, None),
    ],
)
def test_finite_spaces_and_grid_size(overrides: list[str], finite: bool, size: int | None) -> None:
    space = space_of(overrides)
    assert all(is_finite(d) for d in space.params.values()) == finite
    if finite:
        assert len(grid_combinations(space)) == size


def test_grid_order_matches_hydras_basic_sweeper() -> None:
    space = space_of(["optimizer=adam,sgd", "model=mlp,cnn"])
    assert grid_combinations(space) == [
        {"optimizer": "adam", "model": "mlp"},
        {"optimizer": "adam", "model": "cnn"},
        {"optimizer": "sgd", "model": "mlp"},
        {"optimizer": "sgd", "model": "cnn"},
    ]


SGD_MOMENTUM = {"optimizer=sgd": {"optimizer.momentum": "0.5,0.9"}}


def test_conditional_parameters_extend_only_their_option() -> None:
    space = space_of(["optimizer=adam,sgd"], SGD_MOMENTUM)
    assert grid_combinations(space) == [
        {"optimizer": "adam"},
        {"optimizer": "sgd", "optimizer.momentum": 0.5},
        {"optimizer": "sgd", "optimizer.momentum": 0.9},
    ]


DESCRIBED = [
    ("optimizer.lr=interval(1e-4,1e-1)", "log-uniform [0.0001, 0.1] (spans 3 decades)"),
    ("optimizer.lr=tag(log,interval(1e-5,1))", "log-uniform [1e-05, 1] (spans 5 decades)"),
    ("optimizer.lr=tag(linear,interval(1e-4,1e-1))", "uniform [0.0001, 0.1]"),
    ("regularization.dropout=interval(0,0.7)", "uniform [0, 0.7]"),
    (
        "model.width=tag(log,int(interval(16,512)))",
        "integer log-uniform [16, 512] (spans 1.5 decades)",
    ),
    ("model.depth=range(1,4)", "integer uniform [1, 3]"),
    ("model.depth=range(0,10,3)", "integer uniform [0, 9] step 3"),
    ("optimizer=choice(adam,sgd)", "one of adam, sgd"),
]


@pytest.mark.parametrize(("override", "words"), DESCRIBED, ids=[o for o, _ in DESCRIBED])
def test_how_a_parameter_is_searched_in_words(override: str, words: str) -> None:
    [dist] = space_of([override]).params.values()
    assert describe(dist) == words
