"""The sweep side of hpsweep, shared by the sweeper and the jobs it launches.

- `spec`: what a sweep searches, parsed once (SweepSpec);
- `outcome`: how a trial ended, one typed record (RunStatus, TrialOutcome);
- `channel`: where the study lives, which trial each job runs;
- `storage`: opening the study's storage; its password masked, never recorded;
- `trial`: the public API a job uses to report, prune and record (SweepTrial);
- `job`: how the sweeper runs each job (RecordedTask);
- `results`: results.csv;
- `best`: best.yaml and the summary when a sweep ends (every sweeper);
- `interruption`: Ctrl-C and SIGTERM.
"""
