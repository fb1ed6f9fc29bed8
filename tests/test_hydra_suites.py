"""Hydra's own sweeper test suites, shipped with hydra-core, run against our sweeper."""

from __future__ import annotations

import pytest
from hydra.test_utils.launcher_common_tests import BatchedSweeperTestSuite, IntegrationTestSuite


@pytest.mark.parametrize(
    ("launcher_name", "overrides"),
    [("basic", ["hydra/sweeper=hpsweep", "hydra.sweeper.n_jobs=2"])],
)
class TestHpsweepSweeperBatches(BatchedSweeperTestSuite):
    """A grid of 6 in batches of n_jobs=2, in Hydra's order, 6 unique job folders."""


@pytest.mark.parametrize(
    ("task_launcher_cfg", "extra_flags"),
    # The suite's apps return None, which a sweep records as a failed trial: let it.
    [({}, ["-m", "hydra/sweeper=hpsweep", "hydra.sweeper.max_failure_rate=1"])],
)
class TestHpsweepSweeperIntegration(IntegrationTestSuite):
    """Task names, working dirs and output paths of apps run under our sweeper."""

    @pytest.mark.skip(
        reason="runs the same sweep twice in one sweep dir and expects job 0 to run again; "
        "hpsweep resumes a sweep dir's study instead and never overwrites a job folder"
    )
    def test_to_absolute_path_multirun(
        self, tmpdir: object, task_launcher_cfg: object, extra_flags: object
    ) -> None: ...
