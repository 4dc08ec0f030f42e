"""The CP-SAT solver every search step and stage uses, and the callback that watches its solutions."""

from __future__ import annotations

import time
from collections.abc import Callable

from ortools.sat.python import cp_model

Progress = Callable[[str], None]


class FirstSolution(cp_model.CpSolverSolutionCallback):
    """Notes the first solution's time, reports progress, and stops once a known floor is reached."""

    def __init__(self, started: float, progress: Progress | None, label: str, floor: int | None = None) -> None:
        super().__init__()
        self.started = started
        self.first: float | None = None
        self.progress = progress
        self.label = label
        self.floor = floor

    def on_solution_callback(self) -> None:
        if self.first is None:
            self.first = time.monotonic() - self.started
        if self.progress:
            self.progress(f"{self.label}: objective {int(self.objective_value)}, bound {int(self.best_objective_bound)}")
        if self.floor is not None and self.objective_value <= self.floor:
            self.stop_search()


def new_solver(time_limit: float, workers: int, seed: int = 0, work_limit: float | None = None) -> cp_model.CpSolver:
    """A CP-SAT solver; `work_limit` caps its deterministic work so that, with one worker, a
    search ends the same way however loaded the machine is (the seconds are then a backstop)."""
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    if work_limit is not None:
        solver.parameters.max_deterministic_time = work_limit
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = False
    # Presolve's repeated probing costs seconds on these models and buys little: one pass.
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.cp_model_probing_level = 0
    return solver
