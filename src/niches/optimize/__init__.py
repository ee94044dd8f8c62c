"""The model of a portfolio and the ways to solve it: the oracle, the formulation, solvers, engines."""
