"""Optuna samplers of hpsweep's own, usable in any Optuna study.

    import optuna
    from hpsweep.samplers import MultiFidelityTPESampler

    study = optuna.create_study(
        sampler=MultiFidelityTPESampler(seed=0),
        pruner=optuna.pruners.HyperbandPruner(min_resource=1, max_resource=27),
    )

This package imports Optuna and nothing else of hpsweep.
"""

from hpsweep.samplers.multi_fidelity_tpe import MultiFidelityTPESampler

__all__ = ["MultiFidelityTPESampler"]
