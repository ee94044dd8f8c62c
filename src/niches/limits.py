"""The documented ranges of the command line's numeric options (checked before any work)."""

MAX_SAMPLES = 1_000_000
"""Most Monte Carlo samples one run draws (`--samples`)."""

MAX_SEED = 2**63 - 1
"""Largest seed (`--seed` takes 0 to this)."""

MAX_WORKERS = 256
"""Most worker processes (`--workers`)."""

SAMPLES = 500
"""Monte Carlo samples `robust`, `report` and assertions draw when not told (one default everywhere)."""

POINTS = 500
"""Breakpoints a frontier draws when not told, on a scenario small enough to enumerate."""

POINTS_MILP = 60
"""Breakpoints a frontier (and the report's) draws when not told on a scenario too big to enumerate,
where each is a MILP or two; past them the rest of a budget frontier is bounded by one more solve."""


AUTO_SAMPLES = 0
"""`--samples auto`: draw until every core index is known to `AUTO_HALF_WIDTH` (see the next four)."""

AUTO_FIRST = 200
"""Samples `--samples auto` draws before it first checks its precision."""

AUTO_STEP = 100
"""Samples `--samples auto` adds each time it is not precise enough yet."""

AUTO_CAP = 5_000
"""Most samples `--samples auto` draws (it says so when it stops there short of its precision)."""

AUTO_HALF_WIDTH = 0.025
"""The precision `--samples auto` stops at: every core index's 95% interval within +/- 2.5 points."""
