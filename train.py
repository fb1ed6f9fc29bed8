"""Train one model; with -m, a sweep of them. See README.md and conf/train.yaml.

python train.py                                   # defaults: Adam, lr 1e-3, batch 64
python train.py optimizer=sgd model=cnn regularization=dropout
python train.py -m optimizer.lr='interval(1e-4,1e-1)'

Bad input stops in a Hydra callback (hpsweep.hydra_callbacks.validate) before `main`
runs; torch and TensorBoard are imported only inside `main`, so that stop is quick.
"""

import logging
import math
import signal
import sys
import warnings
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from hpsweep.sweep.interruption import StoppedBySignal, raise_terminated, signal_of
from hpsweep.training.resolvers import register_resolvers
from hpsweep.training.trusted_targets import TRUSTED_TARGETS

log = logging.getLogger(__name__)
register_resolvers()
# hydra-ray-launcher (the ray extra) registers its resolver with OmegaConf's deprecated
# call when Hydra imports it, on every command: that warning is the plugin's to fix.
# hydra_plugins/hpsweep_quiet keeps it out of a regular install's apps, but an editable
# one (make, pip install -e) has Hydra import the launcher before that module.
warnings.filterwarnings(
    "ignore",
    r"register_new_resolver\(\) is deprecated",
    UserWarning,
    r"hydra_plugins\.hydra_ray_launcher",
)


@hydra.main(config_path="conf", config_name="train", execution_whitelist=TRUSTED_TARGETS)
def main(cfg: DictConfig) -> float:
    """One run: train, record its outcome (metrics.json) in the run's folder, return
    the objective (NaN when the run diverged: never a value)."""
    from hpsweep.tensorboard.hparams import run_hparams
    from hpsweep.training import train

    hydra_cfg = HydraConfig.get()
    output_dir = Path(hydra_cfg.runtime.output_dir)
    hparams = run_hparams(cfg, hydra_cfg.runtime.choices, hydra_cfg.overrides.task)
    single_run = hydra_cfg.mode != RunMode.MULTIRUN
    if single_run:  # a sweep's jobs take the sweeper's (or their launcher's) handling
        signal.signal(signal.SIGTERM, raise_terminated)
    try:
        outcome = train(cfg, output_dir, hparams)
    except (KeyboardInterrupt, StoppedBySignal) as interrupt:
        if single_run:
            exit_interrupted(interrupt, output_dir, cfg)
        raise  # a sweep's job: the sweeper records it (cut, to continue)
    except Exception as error:
        if hydra_cfg.mode == RunMode.MULTIRUN:
            # The sweep records the trial as failed and goes on; the traceback goes into
            # the trial's own log, where its curves and config are.
            log.exception("trial failed")
            raise
        exit_with_one_line(error)
    # The one record of the run: the sweep tells the study and writes results.csv from it.
    outcome.write(output_dir)
    return math.nan if outcome.value is None else outcome.value


def exit_interrupted(interrupt: BaseException, output_dir: Path, cfg: DictConfig) -> None:
    """Ctrl-C or SIGTERM of a single run: the epoch ended and its state was saved (with
    trainer.save_state); one line says how to continue, exit 130 or 143."""
    signal_name, exit_code = signal_of(interrupt)
    how = (
        f"its state is saved: continue with the same command and hydra.run.dir={output_dir}"
        if cfg.trainer.get("save_state", True)
        else "trainer.save_state=false: nothing to continue from"
    )
    print(f"interrupted by {signal_name}: {how}", file=sys.stderr)
    raise SystemExit(exit_code) from None


def exit_with_one_line(error: Exception) -> None:
    """A single run that fails while training (out of memory, say): the traceback goes
    to the run's log file only, the console gets one line pointing there, exit 1."""
    record = log.makeRecord(
        log.name, logging.ERROR, __file__, 0, "run failed", None, sys.exc_info()
    )
    logs = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    for handler in logs:
        handler.handle(record)
    where = logs[0].baseFilename if logs else "no log file: run with hydra/job_logging=default"
    reason = " ".join(f"{type(error).__name__}: {error}".split())
    print(f"Error: the run failed: {reason} (traceback in {where})", file=sys.stderr)
    raise SystemExit(1) from None


if __name__ == "__main__":
    main()
