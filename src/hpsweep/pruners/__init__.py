"""Optuna pruners of hpsweep's own, usable in any Optuna study.

    import optuna
    from hpsweep.pruners import MultiObjectiveASHAPruner, report_values

    study = optuna.create_study(
        directions=["minimize", "minimize"], pruner=MultiObjectiveASHAPruner(reduction_factor=3)
    )

This package imports Optuna and nothing else of hpsweep.
"""

from hpsweep.pruners.multi_objective_asha import MultiObjectiveASHAPruner, report_values

__all__ = ["MultiObjectiveASHAPruner", "report_values"]
