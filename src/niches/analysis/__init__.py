"""Analyses built on the core: each a function of a scenario or a solution."""
