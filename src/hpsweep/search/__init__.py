"""The hpsweep sweeper's logic, one room per step of a sweep, free of Hydra's plugin API
(hydra_plugins/hpsweep_sweeper/ is the thin adapter Hydra discovers).

A sweep, in the order it happens:

- `plan`: what the sweep runs — its space (`space`), grid or sampled, how many trials,
  the repeats over seeds (`repeats`) — decided before anything is written;
- `study`: the Optuna study opened or resumed, cut-off trials found to continue, trials asked
  with their claims across processes (`bookkeeping`: the pure decisions);
- `in_flight`: the loop that keeps n_jobs jobs in flight on Hydra's launcher
  (`dispatch`), read beside Optuna's `study/_optimize.py`;
- `recording`: each configuration's one outcome told to the study and written as its
  results.csv row, on every path (interrupted ones too); best.yaml and the report at
  the end; `progress` for the person watching.

Imports point one way: this package reads hpsweep.sweep (the records and the channel
to the jobs) and hpsweep.report (the end-of-sweep files); neither imports it.
"""
