"""Bridges from other training frameworks to hpsweep's public trial API
(`from hpsweep import SweepTrial`). Each module imports its framework, so import one only when you
use it: `from hpsweep.integrations.lightning import HpsweepPruning` needs the
`lightning` extra (`pip install 'hpsweep[lightning]'`)."""
