"""An unreachable study storage stops a sweep before any folder exists.

The callbacks after this one (results.csv, TensorBoard's experiment) create the sweep
folder at multirun start, before the sweeper opens its storage. So this callback,
listed right after validate_config, checks `hydra.sweeper.storage` first: a server that
is down, wrong credentials, a missing database, a journal path that cannot be written or
an unsupported URL scheme print one line and exit 1, the password masked:

    Error: cannot open the study storage postgresql://alice:***@127.0.0.1:1/hp: connection refused
"""

from __future__ import annotations

import sys
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from hpsweep.sweep.storage import (
    StorageError,
    check_storage,
    interpolation_reason,
    mask_password,
)


class CheckStudyStorage(Callback):
    """Opens the sweeper's storage at multirun start (any sweeper with a `storage` key).

    Hydra turns exceptions raised in callbacks into warnings and carries on, so this
    callback prints the message itself and raises SystemExit(1), which Hydra lets through.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        sweeper = config.hydra.sweeper
        if "storage" not in sweeper or OmegaConf.select(sweeper, "dry_run", default=False):
            return
        try:
            storage = sweeper.storage  # resolves ${oc.env:...} as the sweeper will
            if storage is not None:
                check_storage(str(storage))
        except OmegaConfBaseException as error:
            typed = OmegaConf.to_container(sweeper, resolve=False)["storage"]
            reason = interpolation_reason(error)
            self._exit(f"cannot open the study storage {mask_password(str(typed))}: {reason}")
        except StorageError as error:
            self._exit(str(error))

    @staticmethod
    def _exit(message: str) -> None:
        print(f"Error: {message}", file=sys.stderr)
        raise SystemExit(1)
