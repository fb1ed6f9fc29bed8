"""The Python targets that hpsweep's configs may instantiate.

Hydra 1.4 asks every `instantiate` for an execution whitelist, because a config that
names any `_target_` can run any code. These prefixes cover every option in conf/.
A model or data loader of your own needs its module added here.
"""

TRUSTED_TARGETS: tuple[str, ...] = (
    "hpsweep.*",
    "torch.optim.*",
)
