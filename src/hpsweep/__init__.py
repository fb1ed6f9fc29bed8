"""hpsweep: declarative hyperparameter sweeps for PyTorch on Hydra.

What a Hydra app needs to take part in a sweep, in one import:

    from hpsweep import SweepTrial

    trial = SweepTrial.current()          # None unless the hpsweep sweeper launched this job
    if trial is not None:
        trial.report(val_loss, step=epoch)
        if trial.should_prune():
            ...
        trial.save_state({"model": model.state_dict(), ...}, step=epoch)
    saved = trial.load_state()            # a cut trial's last SavedState(step, state), or None

and to read a sweep back: `load_recorded_study(sweep_dir)` (the Optuna study), each
trial's `TrialOutcome` (its `metrics.json`) and its `RunStatus` word. Everything else
lives in the package's rooms: `sweep` (records, the channel to the jobs), `search` (the
sweeper's logic), `training` (train.py's run), `tensorboard`, `report`.
"""

from hpsweep.sweep.channel import load_recorded_study
from hpsweep.sweep.outcome import RunStatus, TrialOutcome
from hpsweep.sweep.saved_state import SavedState
from hpsweep.sweep.trial import SweepTrial

__version__ = "0.1.0"

__all__ = [
    "RunStatus",
    "SavedState",
    "SweepTrial",
    "TrialOutcome",
    "__version__",
    "load_recorded_study",
]
