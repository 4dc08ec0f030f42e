"""Error types that the CLI and the API each render in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One thing wrong with an input, at a path such as `experts[12].specialties[0]`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


@dataclass
class ScenarioError(Exception):
    """A scenario (or part of one) that breaks the `rota.scenario/1` contract; holds every problem found."""

    problems: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)

    def as_json(self) -> list[dict[str, str]]:
        return [{"path": p.path, "message": p.message} for p in self.problems]


class NotFound(Exception):
    """A referenced thing (month, version, expert, ...) does not exist."""


class Conflict(Exception):
    """A request that the current state does not allow (a hard rule, a published version).

    `current_version` names the month's latest version when the conflict is a roster write that
    kept losing the race to other writes, so the client can reload it.
    """

    def __init__(self, message: str = "", *, current_version: int | None = None) -> None:
        super().__init__(message)
        self.current_version = current_version
