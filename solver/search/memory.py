"""What the search remembers between steps about each township's timetable as it stands."""

from __future__ import annotations


class TriedDays:
    """The day sets a township's whole-days steps have tried on its timetable as it stands (forgotten when it changes)."""

    def __init__(self) -> None:
        self._tried: dict[str, tuple[frozenset[int], set[frozenset]]] = {}

    def untried(self, township: str, sessions: frozenset[int], options: list[frozenset]) -> list[frozenset]:
        """The options not yet tried on these sessions; all of them again once every one has been."""
        seen, tried = self._tried.get(township, (None, set()))
        if seen != sessions:
            tried = set()
            self._tried[township] = (sessions, tried)
        fresh = [days for days in options if days not in tried]
        if not fresh:  # every option tried: start over (CP-SAT may find in a second try what it missed)
            tried.clear()
            fresh = options
        return fresh

    def note(self, township: str, days: frozenset) -> None:
        """Remember that a step tried these days on the township's timetable as it stands."""
        self._tried[township][1].add(days)


class SettledTownships:
    """The townships whose timetable, as it stands, re-packs no better (solver.timetable): not tried again until it moves."""

    def __init__(self) -> None:
        self._sessions: dict[str, frozenset[int]] = {}

    def note(self, township: str, sessions: frozenset[int]) -> None:
        """The township's sessions as they stood when it last re-packed no better."""
        self._sessions[township] = sessions

    def holds(self, township: str, sessions: frozenset[int]) -> bool:
        """Whether the township is settled with exactly these sessions."""
        return self._sessions.get(township) == sessions
