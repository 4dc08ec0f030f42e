"""Benchmarks of the solver: a seeded scenario generator and a runner that compares the solver with a greedy baseline."""
