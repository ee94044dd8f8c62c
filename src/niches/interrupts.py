"""Stopping a run from outside: Ctrl-C (SIGINT) and SIGTERM.

The command line turns both signals into `Interrupted`, which no library
layer (nor the CLI framework) swallows: solvers end their child processes and
remove their files on the way out, and an analysis that can keep partial
results (the Monte Carlo) catches it and says so.
"""

from __future__ import annotations

import signal


class Interrupted(BaseException):
    """The run was told to stop by signal `signum`; exit with `code` (130 for SIGINT, 143 for SIGTERM)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.code = 128 + signum

    @property
    def word(self) -> str:
        return "terminated" if self.signum == signal.SIGTERM else "interrupted"


STOPS = (KeyboardInterrupt, Interrupted)
"""What stops a run: Ctrl-C in library use, or either signal under the command line."""
