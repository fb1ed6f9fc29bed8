"""Keeps hydra-ray-launcher's import warning out of every Hydra app (the ray extra).

hydra-ray-launcher 1.2.2 calls OmegaConf's deprecated `register_new_resolver` when its
`_config` module is imported, and Hydra imports every plugin in every app, so any app,
`python my_app.py` included, printed:

    [Hydra plugins scanner] : warnings from 'hydra_plugins.hydra_ray_launcher.ray_aws_launcher'.
    ...: UserWarning: register_new_resolver() is deprecated and will be removed ...

Hydra's scanner (hydra.core.plugins, `_scan_all_plugins`) imports the modules of each
folder on `hydra_plugins.__path__` in sorted order, each inside its own
`warnings.catch_warnings()`, which undoes any filter a module installs. So this module,
which sorts before `hydra_ray_launcher` in the one site-packages/hydra_plugins folder of
a regular install, imports the launcher's `_config` itself with that one warning ignored;
when the scanner reaches the launcher, `_config` is already imported and warns no more.
Nothing else is silenced: an app's own `register_new_resolver` call still warns.

An editable install (`pip install -e .`, `make`) puts hpsweep's hydra_plugins folder on
the path after site-packages, so the scanner imports the launcher first and this module
is too late: train.py, the tests and pytest keep their own filter for that case.
"""

from __future__ import annotations

import contextlib
import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore",
        r"register_new_resolver\(\) is deprecated",
        UserWarning,
        r"hydra_plugins\.hydra_ray_launcher\._config",
    )
    with contextlib.suppress(ImportError):  # the ray extra is not installed
        import hydra_plugins.hydra_ray_launcher._config  # noqa: F401
