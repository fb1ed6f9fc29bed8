"""The sweep spec: the command line, `params:` and `conditional:` parsed once, by table."""

from __future__ import annotations

import pytest

from hpsweep.sweep.spec import Condition, SweepSpec, SweepSpecError, log_scale

GROUPS = ["optimizer", "model"]


@pytest.mark.parametrize(
    ("overrides", "params", "keys", "fixed"),
    [
        (["optimizer=adam,sgd", "trainer.epochs=3"], None, ["optimizer"], ["trainer.epochs=3"]),
        (["~callbacks.early_stopping"], None, [], ["~callbacks.early_stopping"]),
        # params: first, then the command line, in the order given
        (
            ["model.width=8,16"],
            {"optimizer.lr": "interval(1e-4,1e-1)"},
            ["optimizer.lr", "model.width"],
            [],
        ),
        # the command line wins over a params: entry of the same key
        (["optimizer.lr=0.01"], {"optimizer.lr": "interval(1e-4,1e-1)"}, [], ["optimizer.lr=0.01"]),
        (["optimizer.lr=0.1,0.2"], {"optimizer.lr": "interval(1e-4,1e-1)"}, ["optimizer.lr"], []),
        # hydra's own overrides are applied by Hydra, never searched
        (["hydra.sweeper.n_trials=3", "model=mlp,cnn"], None, ["model"], []),
        (["+extra=1,2"], None, ["+extra"], []),  # re-emitted as typed
    ],
    ids=["cli", "delete", "params-block", "cli-fixes-param", "cli-sweeps-param", "hydra", "append"],
)
def test_parameters_and_fixed_overrides(
    overrides: list[str], params: dict | None, keys: list[str], fixed: list[str]
) -> None:
    spec = SweepSpec.parse(overrides, params=params, groups=GROUPS)
    assert spec.keys == keys
    assert list(spec.fixed) == fixed


def test_groups_are_marked() -> None:
    spec = SweepSpec.parse(["optimizer=adam,sgd", "model.width=8,16"], groups=GROUPS)
    assert [(p.key, p.is_group) for p in spec.parameters] == [
        ("optimizer", True),
        ("model.width", False),
    ]


def test_conditional_parameters_name_their_condition() -> None:
    spec = SweepSpec.parse(
        ["optimizer=adam,sgd,rmsprop"],
        conditional={
            "optimizer=sgd": {"optimizer.momentum": "interval(0.5,0.99)"},
            "optimizer=rmsprop": {"optimizer.momentum": "interval(0.0,0.9)"},
        },
        groups=GROUPS,
    )
    assert [(p.key, p.condition) for p in spec.conditional] == [
        ("optimizer.momentum", Condition("optimizer", "sgd")),
        ("optimizer.momentum", Condition("optimizer", "rmsprop")),
    ]
    assert spec.keys == ["optimizer", "optimizer.momentum"]  # one column each


@pytest.mark.parametrize(
    ("conditional", "message"),
    [
        ({"optimizer": {"optimizer.momentum": "0.5,0.9"}}, "must be <parameter>=<value>"),
        ({"model=cnn": {"model.kernel": "3,5"}}, "searched: optimizer"),
        ({"optimizer=rmsprop": {"optimizer.momentum": "0.5,0.9"}}, "not a choice of optimizer"),
        ({"optimizer=sgd": {"optimizer.momentum": "0.9"}}, "is not a sweep"),
        ({"optimizer=sgd": {"optimizer.momentum": "interval(0.5"}}, "no viable alternative"),
    ],
)
def test_bad_conditional_blocks(conditional: dict, message: str) -> None:
    with pytest.raises(SweepSpecError, match=message):
        SweepSpec.parse(["optimizer=adam,sgd"], conditional=conditional, groups=GROUPS)


def test_a_malformed_params_entry_is_one_line() -> None:
    with pytest.raises(SweepSpecError, match="no viable alternative") as error:
        SweepSpec.parse([], params={"optimizer.lr": "interval(1e-4"})
    assert "\n" not in str(error.value)


# hpsweep's scale rule: positive and >= 2 decades is log unless tagged linear; log tags win.
LOG_SCALE = [
    ("interval(1e-4,1e-1)", True),  # 3 decades: the mission's learning rate
    ("interval(1e-3,1e-1)", True),  # exactly 2 decades
    ("interval(1e-3,0.0999)", False),  # just under
    ("interval(0.1,5)", False),
    ("interval(0,1)", False),  # not positive
    ("interval(0,0.7)", False),
    ("interval(-1,100)", False),
    ("interval(1e-6,1e-1)", True),
    ("int(interval(1,1000))", True),  # an integer interval too (Optuna: low >= 1)
    ("int(interval(16,512))", False),  # 1.5 decades
    ("int(interval(0,1000))", False),
    ("tag(linear,interval(1e-4,1e-1))", False),  # forced linear
    ("tag(log,interval(0.1,0.5))", True),  # tagged log: always
    ("tag(log,linear,interval(1e-4,1e-1))", True),  # both: log wins
]


@pytest.mark.parametrize(("interval", "log"), LOG_SCALE, ids=[i for i, _ in LOG_SCALE])
def test_log_scale_rule(interval: str, log: bool) -> None:
    [parameter] = SweepSpec.parse([f"x={interval}"]).parameters
    assert parameter.log_scale is log
    assert log_scale(parameter.override.value()) is log


def test_only_intervals_have_a_log_scale() -> None:
    spec = SweepSpec.parse(["x=0.0001,0.1", "y=choice(1e-5,1)", "z=range(1,1000)"])
    assert [p.log_scale for p in spec.parameters] == [False, False, False]
