# The hpsweep sweeper presets (hydra/sweeper/*.yaml), found by every Hydra app through
# hydra_plugins.hpsweep_sweeper.search_path. A regular package: Hydra's pkg:// config
# source reads only those.
