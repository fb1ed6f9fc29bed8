"""One training run: data, models, schedules, the loop and its callbacks.

`train(cfg, output_dir)` builds everything from a composed config with Hydra's
`instantiate`, fits it epoch by epoch, and returns the final metrics.

The loop (and torch with it) loads on first use of these names, not with the
package: `hpsweep.training.validation` checks a config without paying for torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpsweep.training.loop import cpu_threads, resolve_device, train

__all__ = ["cpu_threads", "resolve_device", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from hpsweep.training import loop

        return getattr(loop, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
