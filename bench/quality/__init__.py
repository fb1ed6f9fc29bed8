"""The parts of bench/search_quality.py: problems, the budget ledger, the regret
arithmetic and one module per family of methods (hpsweep, Syne Tune, Ray Tune, SMAC)."""
