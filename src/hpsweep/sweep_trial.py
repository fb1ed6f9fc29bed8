"""Moved to hpsweep.sweep.trial (and hpsweep.sweep.channel); kept so that apps written
against `from hpsweep.sweep_trial import SweepTrial` keep working."""

from hpsweep.sweep.channel import load_recorded_study  # noqa: F401
from hpsweep.sweep.trial import SweepTrial  # noqa: F401
