"""Benchmark: each model option at its defaults on digits (issue 29).

Trains every `model` option (and model=cnn with optimizer=sgd too) at the defaults of
conf/ for seeds 0-2 through hpsweep.training.train, one torch thread, without the
checkpoint and TensorBoard files, and prints a Markdown table: test accuracy (mean ±
sd over the seeds), epochs run (early stopping is on), seconds per epoch, parameters.

    nice -n 15 python bench/models.py [--seeds 0 1 2] [--runs mlp cnn cnn+sgd attention]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.plugins import Plugins

from hpsweep.training import train
from hpsweep.training.callbacks import RunState, TrainingCallback
from hpsweep.training.resolvers import register_resolvers

ROOT = Path(__file__).resolve().parents[1]
# One thread, as the tests run it: seconds per epoch comparable across models, and a
# shared machine's other jobs disturb one thread least.
NO_FILES = [
    "trainer.device=cpu",
    "trainer.num_threads=1",
    "~callbacks.checkpoint",
    "~callbacks.tensorboard",
]
RUNS = {
    "mlp": ["model=mlp"],
    "cnn": ["model=cnn"],
    "cnn+sgd": ["model=cnn", "optimizer=sgd"],
    "attention": ["model=attention"],
}


@dataclass
class Measure(TrainingCallback):
    """The model's parameter count and each epoch's seconds, as the loop reports them."""

    params: int = 0
    epoch_seconds: list[float] = field(default_factory=list)

    def on_fit_start(self, run: RunState) -> None:
        self.params = sum(p.numel() for p in run.model.parameters())

    def on_epoch_end(self, run: RunState, metrics: dict[str, float]) -> None:
        self.epoch_seconds.append(metrics["time/epoch_seconds"])


def run_once(overrides: list[str], seed: int) -> tuple[float, int, Measure]:
    """(test accuracy, epochs, measurements) of one run."""
    with initialize_config_dir(config_dir=str(ROOT / "conf")):
        cfg = compose("train", overrides=[*overrides, *NO_FILES, f"trainer.seed={seed}"])
    measure = Measure()
    with tempfile.TemporaryDirectory() as out:
        outcome = train(cfg, Path(out), extra_callbacks=[measure])
    return outcome.metrics["test/acc"], len(measure.epoch_seconds), measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--runs", nargs="+", choices=sorted(RUNS), default=list(RUNS))
    args = parser.parse_args()
    register_resolvers()
    Plugins.instance()  # registers the sweeper plugins' configs, as train.py does

    print("| model | test acc (mean ± sd) | epochs | s/epoch | params |")
    print("|---|---|---|---|---|")
    for name in args.runs:
        accs, epochs, seconds, params = [], [], [], 0
        for seed in args.seeds:
            acc, ran, measure = run_once(RUNS[name], seed)
            accs.append(acc)
            epochs.append(ran)
            seconds += measure.epoch_seconds
            params = measure.params
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        print(
            f"| {name} | {statistics.mean(accs):.4f} ± {sd:.4f} "
            f"| {' '.join(map(str, epochs))} | {statistics.mean(seconds):.3f} | {params:,} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
