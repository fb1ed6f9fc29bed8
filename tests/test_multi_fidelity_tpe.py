"""hpsweep.samplers.MultiFidelityTPESampler, tested as Optuna tests a sampler (seeded
reproducibility, bounds, log scale, categorical and conditional parameters), plus its own
rule: the budget it models and how each trial looks to TPE there, by tables."""

from __future__ import annotations

import math
import warnings

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import FrozenTrial, TrialState, create_trial

from hpsweep.samplers import MultiFidelityTPESampler
from hpsweep.samplers.multi_fidelity_tpe import model_budget, value_at, view_trial

optuna.logging.set_verbosity(optuna.logging.WARNING)
X = {"x": FloatDistribution(0, 1)}


def sampler(**options: object) -> MultiFidelityTPESampler:
    with warnings.catch_warnings():
        # `group` is experimental in Optuna: the presets choose it knowingly.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return MultiFidelityTPESampler(**options)


def made(state: TrialState, steps: dict[int, float], value: float | None = None) -> FrozenTrial:
    return create_trial(
        state=state,
        value=value,
        params={"x": 0.5},
        distributions=X,
        intermediate_values=steps,
    )


COMPLETE, PRUNED, RUNNING = TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING


@pytest.mark.parametrize(
    ("trial", "step", "expected"),
    [
        pytest.param(
            made(COMPLETE, {1: 0.9, 3: 0.5, 9: 0.2}, 0.2), 3, 0.5, id="at-a-reported-step"
        ),
        pytest.param(made(COMPLETE, {1: 0.9, 4: 0.5}, 0.5), 3, 0.9, id="last-step-before"),
        pytest.param(made(COMPLETE, {1: 0.9, 3: 0.5}, 0.4), 9, 0.4, id="completed-early"),
        pytest.param(made(COMPLETE, {}, 0.4), 9, 0.4, id="completed-without-reports"),
        pytest.param(made(PRUNED, {1: 0.9, 3: 0.5}), 3, 0.5, id="pruned-at-the-step"),
        pytest.param(made(PRUNED, {1: 0.9}), 3, None, id="pruned-before"),
        pytest.param(made(RUNNING, {1: 0.9, 2: 0.8}), 3, None, id="running-below"),
        pytest.param(made(RUNNING, {1: 0.9, 3: 0.7}), 3, 0.7, id="running-past"),
    ],
)
def test_a_trials_value_at_a_budget(trial: FrozenTrial, step: int, expected: float | None) -> None:
    assert value_at(trial, step) == expected


STUDY = [
    made(COMPLETE, {1: 0.3, 3: 0.2, 9: 0.1}, 0.1),
    made(PRUNED, {1: 0.5, 3: 0.6}),
    made(PRUNED, {1: 0.4, 3: 0.3}),
    made(PRUNED, {1: 0.9}),
    made(PRUNED, {1: 0.8}),
]


@pytest.mark.parametrize(
    ("trials", "min_points", "expected"),
    [
        pytest.param(STUDY, 1, 9, id="the-top-rung-with-one"),
        pytest.param(STUDY, 3, 3, id="three-reached-step-3"),
        pytest.param(STUDY, 5, 1, id="all-five-at-step-1"),
        pytest.param(STUDY, 6, 1, id="too-few-anywhere-the-lowest"),
        pytest.param([made(COMPLETE, {}, 0.4)], 1, None, id="no-reports-no-budget"),
    ],
)
def test_the_budget_modelled_is_the_largest_with_enough_values(
    trials: list[FrozenTrial], min_points: int, expected: int | None
) -> None:
    assert model_budget(trials, min_points) == expected


@pytest.mark.parametrize(
    ("trial", "budget", "liar", "state", "value"),
    [
        pytest.param(STUDY[0], 3, True, COMPLETE, 0.2, id="complete-valued-at-the-budget"),
        pytest.param(STUDY[1], 3, True, COMPLETE, 0.6, id="pruned-at-the-budget-counts"),
        pytest.param(STUDY[3], 3, True, PRUNED, None, id="lost-a-rung-below-it"),
        pytest.param(made(RUNNING, {1: 0.2}), 3, True, PRUNED, None, id="running-liar"),
        pytest.param(made(RUNNING, {1: 0.2}), 3, False, None, None, id="running-unseen"),
        pytest.param(made(COMPLETE, {}, 0.4), None, True, COMPLETE, 0.4, id="plain-tpe"),
    ],
)
def test_how_tpe_sees_a_trial(
    trial: FrozenTrial, budget: int | None, liar: bool, state: TrialState | None, value
) -> None:
    shown = view_trial(trial, budget, liar)
    assert (shown and shown.state, shown and shown.value) == (state, value)


def multi_fidelity(trial: optuna.Trial) -> float:
    """Best near x = 0.7, lr = 1e-2, kind b; low steps add a bias toward x = 0.3."""
    x = trial.suggest_float("x", 0, 1)
    lr = trial.suggest_float("lr", 1e-5, 1, log=True)
    kind = trial.suggest_categorical("kind", ["a", "b", "c"])
    depth = trial.suggest_int("depth", 1, 8)
    value = math.nan
    for step in range(1, 10):
        bias = (1 - step / 9) * (x - 0.3) ** 2
        value = (x - 0.7) ** 2 + (math.log10(lr) + 2) ** 2 / 9 + (kind != "b") + depth / 80 - bias
        trial.report(value, step)
        if trial.should_prune():
            raise optuna.TrialPruned
    return value


def hyperband_study(seed: int, n_trials: int = 60, **options: object) -> optuna.Study:
    study = optuna.create_study(
        sampler=sampler(seed=seed, **options),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=9, reduction_factor=3),
        study_name="hpsweep",
    )
    study.optimize(multi_fidelity, n_trials=n_trials)
    return study


def test_the_same_seed_proposes_the_same_trials() -> None:
    first, again = hyperband_study(3), hyperband_study(3)
    assert [t.params for t in first.trials] == [t.params for t in again.trials]
    other = hyperband_study(4, n_trials=15)
    assert [t.params for t in first.trials[:15]] != [t.params for t in other.trials]


def test_proposals_keep_to_bounds_log_scale_and_choices() -> None:
    trials = hyperband_study(0, n_trials=80, multivariate=True, group=True).trials
    assert all(0 <= t.params["x"] <= 1 for t in trials)
    assert all(1e-5 <= t.params["lr"] <= 1 for t in trials)
    assert all(t.params["kind"] in ("a", "b", "c") for t in trials)
    assert all(isinstance(t.params["depth"], int) and 1 <= t.params["depth"] <= 8 for t in trials)
    # Log-uniform start-up: about 2 in 5 of the first ten below 1e-3 (1 in 1000 if linear).
    assert sum(t.params["lr"] < 1e-3 for t in trials[:10]) >= 2
    # Once modelled, the proposals gather around the optimum (lr 1e-2, kind b).
    late = trials[40:]
    assert sum(t.params["kind"] == "b" for t in late) > len(late) / 2
    assert sum(1e-3 < t.params["lr"] < 1e-1 for t in late) > len(late) / 2


def test_conditional_parameters_are_sampled_only_where_they_exist() -> None:
    def objective(trial: optuna.Trial) -> float:
        optimizer = trial.suggest_categorical("optimizer", ["adam", "sgd"])
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        momentum = trial.suggest_float("momentum", 0.5, 0.99) if optimizer == "sgd" else 0.0
        for step in range(1, 10):
            trial.report(abs(math.log10(lr) + 2) + (1 - momentum) + 1 / step, step)
            if trial.should_prune():
                raise optuna.TrialPruned
        return abs(math.log10(lr) + 2) + (1 - momentum)

    study = optuna.create_study(
        sampler=sampler(seed=0, multivariate=True, group=True),
        pruner=optuna.pruners.SuccessiveHalvingPruner(),
    )
    study.optimize(objective, n_trials=40)
    for trial in study.trials:
        assert ("momentum" in trial.params) == (trial.params["optimizer"] == "sgd")
        assert 0.5 <= trial.params.get("momentum", 0.5) <= 0.99


def test_the_model_sees_every_brackets_trials() -> None:
    # Under HyperbandPruner, Optuna hands samplers a study of one bracket's trials
    # (get_trials); the sampler must read them all.
    study = hyperband_study(0, n_trials=40)
    trial = study.trials[-1]
    bracket = optuna.pruners._filter_study(study, trial)
    assert len(bracket.get_trials()) < len(study.trials)
    mf = study.sampler
    assert isinstance(mf, MultiFidelityTPESampler)
    running = create_trial(state=TrialState.RUNNING, params={}, distributions={})
    running.number, running._trial_id = 10_000, 10_000
    view = mf._view_for(bracket, running)
    assert len(view.trials) == len(study.trials)


def test_it_finds_better_than_random_search_at_equal_trials() -> None:
    def best(make: object) -> float:
        values = []
        for seed in range(3):
            study = optuna.create_study(
                sampler=make(seed),
                pruner=optuna.pruners.HyperbandPruner(1, 9, 3),
                study_name="hpsweep",
            )
            study.optimize(multi_fidelity, n_trials=60)
            values.append(study.best_value)
        return sum(values) / len(values)

    modelled = best(lambda seed: sampler(seed=seed))
    random = best(lambda seed: optuna.samplers.RandomSampler(seed=seed))
    assert modelled < random, (modelled, random)


def test_bad_settings_and_several_objectives_say_so() -> None:
    with pytest.raises(ValueError, match="min_points must be at least 1"):
        MultiFidelityTPESampler(min_points=0)
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=sampler(seed=0))
    with pytest.raises(ValueError, match="one objective only"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


def test_the_sweepers_sampler_option_composes_and_instantiates() -> None:
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from hpsweep.search.study import StudySettings, make_sampler
    from tests.conftest import ROOT

    overrides = ["hydra/sweeper=hyperband", "hydra/sweeper/sampler=hpsweep_mftpe"]
    try:
        with initialize_config_dir(config_dir=str(ROOT / "conf")):
            cfg = compose("train", overrides=overrides, return_hydra_config=True)
    finally:
        GlobalHydra.instance().clear()
    sweeper = cfg.hydra.sweeper
    settings = StudySettings(
        study_name="hpsweep",
        direction="minimize",
        sampler=OmegaConf.to_container(sweeper.sampler),
        pruner=OmegaConf.to_container(sweeper.pruner),
        seed=0,
        n_jobs=2,
    )
    made = make_sampler(settings, seed=7)
    assert isinstance(made, MultiFidelityTPESampler)
    assert made._tpe._n_startup_trials == 10 and made._constant_liar
