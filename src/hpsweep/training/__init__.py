"""One training run: data, models, schedules, the loop and its callbacks.

`train(cfg, output_dir)` builds everything from a composed config with Hydra's
`instantiate`, fits it epoch by epoch, and returns the final metrics.
"""

from hpsweep.training.loop import cpu_threads, resolve_device, train

__all__ = ["cpu_threads", "resolve_device", "train"]
