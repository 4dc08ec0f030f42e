"""Party-committee link visits (rule 8): each member visits each linked township with a team.

Written here for CP-SAT, and as the explanation of a saved roster that breaks it: a supervision
that is no visit of a link, or on a day without its team, or more visit days than the month asks.
How many visits a roster makes (a member's clinical session can be the visit) is the model's to
count: the service's check asks it when an edit may lose visits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from solver.candidates import Candidate, visits_linked
from solver.objective import Term, penalizes
from solver.problem import Problem, Slot
from solver.roster_model import RosterModel, supervision_indices
from solver.solution import Reason, ReasonCode, Violation

VISIT_DAYS = "supervision only on a visit day"
VISITS_PER_MONTH = "link visits per month"


@penalizes(Term.LINK)
def link_visits_with_their_team(roster: RosterModel) -> None:
    """Rule 8: a visit day has the member at the township and at least link_team_min other experts serving there.

    A supervision session exists only on a visit day. Visits the roster does not make are
    counted in `roster.link_misses` and priced by the `link` weight; the engine reports each
    miss with its reason, and a visit that no roster could hold is the only kind left missing.
    """
    problem = roster.problem
    wanted = problem.rules.link_visits_per_month
    team_min = problem.rules.link_team_min
    if wanted <= 0:
        return
    serving_at: dict[tuple, list] = {}
    for (expert, day, township), flag in roster.serves.items():
        serving_at.setdefault((township, day), []).append((expert, flag))
    for link in problem.links:
        day_visits = []
        for day in problem.days:
            supervision = supervision_indices(
                roster.candidates, roster.candidates.by_expert_day_township.get((link.member, day, link.township), [])
            )
            own = roster.serves.get((link.member, day, link.township), 0)
            present = own + roster.total(supervision)
            team = [flag for expert, flag in serving_at.get((link.township, day), []) if expert != link.member]
            if (isinstance(present, int) and present == 0) or len(team) < team_min:
                if supervision:
                    roster.add(VISIT_DAYS, roster.total(supervision) <= 0)
                continue
            visit = roster.model.new_bool_var(f"visit:{link.member}:{link.township}:{day}")
            roster.visits[(link.member, link.township, day)] = visit
            roster.add("link member present on the visit", present >= visit)
            if team_min:
                roster.add("link team minimum", sum(team) >= team_min * visit)
            if supervision:
                roster.add(VISIT_DAYS, roster.total(supervision) <= visit)
            day_visits.append(visit)
        made = sum(day_visits)
        if day_visits:
            roster.add(VISITS_PER_MONTH, made <= wanted)
        roster.link_misses[(link.member, link.township)] = wanted - made
        roster.penalize(Term.LINK, wanted - made, problem.rules.weights.link)


def has_a_team(problem: Problem, member: str, serving: set[str]) -> bool:
    """Rule 8's team: at least link_team_min experts other than the member serve sessions at the township that day."""
    return len(serving - {member}) >= problem.rules.link_team_min


def explain_link_visits(problem: Problem, spare: Mapping[tuple[str, Slot], int], sessions: Sequence[Candidate]) -> Iterator[Violation]:
    """Rule 8 in a saved roster: every supervision that is no member's visit to a linked township; the roster, when a
    supervision falls on a day its township has fewer than link_team_min other experts serving, or gives a link more
    visit days than the month asks."""
    serving: dict[tuple, set[str]] = defaultdict(set)  # (township, day) -> the experts with a session there
    for c in sessions:
        if c.key is not None:
            serving[(c.township, c.day)].add(c.expert)
    visit_days: dict[tuple[str, str], set] = defaultdict(set)
    for position, c in enumerate(sessions):
        if c.key is not None:
            continue
        if not visits_linked(problem, c.expert, c.township):
            yield Violation.of_session(VISIT_DAYS, Reason.of(ReasonCode.SUPERVISION_NOT_A_VISIT), c, position)
        elif not has_a_team(problem, c.expert, serving[(c.township, c.day)]):
            yield Violation.of_roster(VISIT_DAYS)
        else:
            visit_days[(c.expert, c.township)].add(c.day)
    if any(len(days) > problem.rules.link_visits_per_month for days in visit_days.values()):
        yield Violation.of_roster(VISITS_PER_MONTH)
