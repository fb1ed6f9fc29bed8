"""`hpsweep report <sweep dir>`: what a sweep found, as a table, plots and one page.

Works from what every sweeper leaves (results.csv, multirun.yaml, the job folders'
TensorBoard logs), so Hydra's grid sweeper, the stock Optuna sweeper and ours are
reported alike, finished or still running. The plots (hpsweep.report.plots) and the
page (hpsweep.report.page) import matplotlib and Optuna: import them where drawn.
"""

from hpsweep.report.loading import NotASweepError, Sweep, load_sweep
from hpsweep.report.summary import summary_text

__all__ = ["NotASweepError", "Sweep", "load_sweep", "summary_text"]
