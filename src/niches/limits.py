"""The documented ranges of the command line's numeric options (checked before any work)."""

MAX_SAMPLES = 1_000_000
"""Most Monte Carlo samples one run draws (`--samples`)."""

MAX_SEED = 2**63 - 1
"""Largest seed (`--seed` takes 0 to this)."""

MAX_WORKERS = 256
"""Most worker processes (`--workers`)."""

SAMPLES = 500
"""Monte Carlo samples `robust`, `report` and assertions draw when not told (one default everywhere)."""
