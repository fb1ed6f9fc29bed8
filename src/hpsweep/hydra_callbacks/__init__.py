"""Every Hydra callback of hpsweep, in one place: what runs at run, multirun and job
start and end, around whichever sweeper Hydra runs (conf/train.yaml lists them).

- `validate.ValidateConfigCallback`: bad input stops before any folder exists;
- `storage.CheckStudyStorage`: so does a study storage that cannot be opened;
- `job_folders.PadJobFolders`: job folders zero-padded to the planned job count;
- `tensorboard_experiment.WriteHParamsExperiment`: the sweep's HParams columns;
- `results.RecordResults`: results.csv as each trial ends, best.yaml and a summary;
- `report.WriteReport`: the report's PNGs when a sweep ends.

The last two serve Hydra's basic sweeper and the stock Optuna sweeper; the hpsweep
sweeper does the same itself, for any app (hpsweep.search.recording).

Hydra fires these only at job and run boundaries; per-epoch work lives in the training
loop's own callbacks (hpsweep.training.callbacks).
"""
