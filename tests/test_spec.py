"""The sweep spec: the command line, `params:` and `conditional:` parsed once, by table."""

from __future__ import annotations

import pytest

from hpsweep.sweep.spec import Condition, SweepSpec, SweepSpecError

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
