"""Benchmark: which TPE settings beat random search at equal trials (issue 17).

For each space of bench/search_strategies.py (same overrides, same distributions, same
suggestion order, so the same trials as `python train.py -m`) and each sampler seed,
runs 40 trials with each sampler variant in one process, without pruning, and
compares each variant's best final val/loss with random search's for the same seed.
Results are cached in a JSON file (--cache), one entry per (space, variant, seed),
so that runs can be split and resumed.

    python bench/tpe_defaults.py --space reference --seeds 0 1 2 3 4 5 6 7 8 9 \\
        --variants random multivariate [--cache tpe-defaults.json]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import optuna
from hydra import compose, initialize_config_dir
from hydra.core.plugins import Plugins

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search_strategies import NO_FILES, ROOT, SPACES, Space

from hpsweep.training import train
from hpsweep.training.resolvers import register_resolvers

TRIALS = 40

# variant -> sampler for a seed. "independent" is hydra-optuna-sweeper's `tpe` config
# (it passes multivariate=False, constant_liar=False), hpsweep's TPE before issue 17;
# "multivariate" is `hpsweep_tpe`, what conf/hydra/sweeper/*.yaml run now.
VARIANTS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
    "independent": lambda seed: optuna.samplers.TPESampler(
        seed=seed, multivariate=False, constant_liar=False
    ),
    "multivariate": lambda seed: optuna.samplers.TPESampler(
        seed=seed, multivariate=True, group=True, constant_liar=True
    ),
    "multivariate-startup5": lambda seed: optuna.samplers.TPESampler(
        seed=seed, multivariate=True, group=True, constant_liar=True, n_startup_trials=5
    ),
}


def best_of(space: Space, sampler: optuna.samplers.BaseSampler) -> float:
    """The best final val/loss of TRIALS trials proposed by `sampler`."""
    register_resolvers()
    Plugins.instance()  # registers the plugins' configs (hpsweep_tpe), as train.py does
    overrides = [o for o in space.fixed if not o.startswith("hydra.")] + NO_FILES
    with initialize_config_dir(config_dir=str(ROOT / "conf")):
        base = compose("train", overrides=overrides)

    def objective(trial: optuna.Trial) -> float:
        cfg = copy.deepcopy(base)
        space.suggest(trial, cfg)
        with tempfile.TemporaryDirectory() as out:
            return float(train(cfg, Path(out)).metrics["val/loss"])

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=sampler, study_name="hpsweep")
    study.optimize(objective, n_trials=TRIALS)
    return study.best_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=sorted(SPACES), default="reference")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--variants", nargs="+", default=["random", "multivariate"])
    parser.add_argument("--cache", type=Path, default=Path("tpe-defaults.json"))
    args = parser.parse_args()
    space = SPACES[args.space]
    cache = json.loads(args.cache.read_text()) if args.cache.is_file() else {}
    for seed in args.seeds:
        for variant in args.variants:
            key = f"{args.space}/{variant}/{seed}"
            if key not in cache:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    sampler = VARIANTS[variant](seed)
                cache[key] = best_of(space, sampler)
                args.cache.write_text(json.dumps(cache, indent=1))
            print(f"{args.space} seed {seed} {variant:22} best {cache[key]:.4f}", flush=True)
    for variant in args.variants:
        if variant == "random":
            continue
        seeds = [s for s in args.seeds if f"{args.space}/random/{s}" in cache]
        wins = sum(
            cache[f"{args.space}/{variant}/{s}"] <= cache[f"{args.space}/random/{s}"] for s in seeds
        )
        print(f"{args.space}: {variant}'s best <= random's in {wins} of {len(seeds)} seeds")


if __name__ == "__main__":
    main()
