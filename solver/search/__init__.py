"""The search for a month's roster: the incumbent and its evaluation, CP-SAT's solver, and the
large-neighbourhood search as a registry of neighbourhood kinds.

- `incumbent`: the incumbent roster, solving a model from it, scoring it, its assignments;
- `cpsat`: the CP-SAT solver every step and stage uses;
- `config`: `SearchConfig`, the one place for the cadence and step sizes;
- `kinds`: the `Kind` of each neighbourhood and the `Step` it yields;
- `neighbourhoods/`: one module per kind, what it frees and when it is worth trying;
- `schedule`: the order of the steps; `lns`: `improve`, the loop that takes them.

This face re-exports the incumbent's plumbing for solver.engine and solver.replan; the modules
of the package import each other directly, never through it.
"""

from solver.search.cpsat import Progress, new_solver
from solver.search.incumbent import (
    Incumbent,
    coverage_cost,
    evaluate,
    family_sum,
    read_incumbent,
    solve_model,
    state_incumbent,
    to_assignments,
)

__all__ = [
    "Incumbent",
    "Progress",
    "coverage_cost",
    "evaluate",
    "family_sum",
    "new_solver",
    "read_incumbent",
    "solve_model",
    "state_incumbent",
    "to_assignments",
]
