"""The HParams table's columns: declared once per sweep, carried by every trial's run.

TensorBoard's HParams dashboard takes its columns from one experiment summary
anywhere in the log directory (backend_context._find_experiment_tag: the first run
that has one). Written into the sweep folder itself, that summary made a run of its
own, listed as `.` beside the trials. Instead the sweep saves the summary as a plain
file, `.hpsweep/tensorboard-experiment.pb` (not an event file, so no run), and each
trial writes it into its own run at fit start: every run carries the same columns and
none is extra.

The columns:
- hparams: the swept parameters, and `status`, the run's status word (see `STATUS`);
- metrics: the run's final values, `final/<metric>` (what metrics.json and results.csv
  hold: the objective of the final model, the best epoch's when early stopping
  restores it), then the last epoch's `val/loss`, the best so far `best/<monitor>`, and
  `epochs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins.hparams import summary_v2 as hp

from hpsweep.sweep.outcome import RunStatus

EXPERIMENT_FILE = Path(".hpsweep") / "tensorboard-experiment.pb"

# The status word as a string hparam, since an HParams metric is a number. TensorBoard
# keeps the first session-start summary of a run and ignores later ones, so a run's
# hparams cannot change once written; a running trial therefore shows `running` from a
# provisional run (hpsweep.training.callbacks._tensorboard), and its own run gets its
# session, with the final word, when it ends.
STATUS = "status"
RUNNING = "running"
STATUS_WORDS = [RUNNING, *(str(status) for status in RunStatus)]

FINAL = "final/"


def final_tag(metric: str) -> str:
    """The tag of a metric's final value: final/val/loss."""
    return FINAL + metric


def metric_columns(objective: str | Sequence[str]) -> list[hp.Metric]:
    """The table's metric columns, the objective's final value first (every objective's,
    with several: `objective.metric=[val/loss,model/params]`)."""
    objectives = [objective] if isinstance(objective, str) else [str(o) for o in objective]
    objective = objectives[0]  # best/<it>: what the callbacks watch
    final = dict.fromkeys([*objectives, "val/loss", "val/acc"])
    columns = [
        hp.Metric(final_tag(m), display_name=m, description=f"{m} of the final model")
        for m in final
    ]
    columns += [
        hp.Metric("val/loss", display_name="val/loss (last epoch)"),
        hp.Metric(f"best/{objective}", display_name=f"best/{objective} (best epoch)"),
        hp.Metric("epochs", display_name="epochs"),
    ]
    return columns


def experiment_summary(
    domains: dict[str, hp.Domain], objective: str | Sequence[str]
) -> summary_pb2.Summary:
    """The experiment: `status`, then the swept parameters' domains, and the metrics."""
    hparams = [hp.HParam(STATUS, hp.Discrete(STATUS_WORDS))]
    hparams += [hp.HParam(name, domain) for name, domain in domains.items()]
    return hp.hparams_config_pb(hparams=hparams, metrics=metric_columns(objective))


def save_experiment(sweep_dir: Path, summary: summary_pb2.Summary) -> None:
    path = sweep_dir / EXPERIMENT_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(summary.SerializeToString())


def load_experiment(sweep_dir: Path) -> summary_pb2.Summary | None:
    """The sweep's experiment summary, or None (not a sweep, or a dry run)."""
    path = sweep_dir / EXPERIMENT_FILE
    if not path.is_file():
        return None
    return summary_pb2.Summary.FromString(path.read_bytes())
