"""Allow `python -m niches`."""

from niches.cli import main

main()
