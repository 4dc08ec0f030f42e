"""The order of the search's steps: rounds of shuffled soft steps, with the other kinds between them.

A round lists one step of each soft neighbourhood in `ROUND` at each place of its scope, in the
order below, and shuffles them (the first round takes the visits first, once each). Before each
soft step of a round:
- every `flow_every` steps, a step from a roster of its own (`proposals.proposal_step`);
- at that step and half-way to the next, the whole-days steps of the townships the re-pack left
  above their floors (`whole_days.stuck_township_steps`);
- while some demand is short and coverage is not settled at its proven floor, an unmet step
  (`unmet.unmet_step`), and before it, once per incumbent, a step of augmenting chains
  (`Kind.CHAINS`, solver.augment: no CP-SAT; the search applies the chains itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope, Step
from solver.search.neighbourhoods.colleagues import Colleagues
from solver.search.neighbourhoods.proposals import proposal_step
from solver.search.neighbourhoods.reassign import ReassignAcross, ReassignSpecialty
from solver.search.neighbourhoods.specialty import WholeSpecialty
from solver.search.neighbourhoods.thin_day import ThinDay
from solver.search.neighbourhoods.township import WholeTownship
from solver.search.neighbourhoods.unmet import short_rows, unmet_step
from solver.search.neighbourhoods.visit import Visit
from solver.search.neighbourhoods.week import Week
from solver.search.neighbourhoods.whole_days import WholeDays, stuck_township_steps


class SoftNeighbourhood(Protocol):
    """A neighbourhood a round of soft steps takes at each place of its scope (None: not worth trying there)."""

    kind: Kind
    scope: Scope

    @staticmethod
    def option(context: SearchContext, place) -> Option | None: ...


# One round of soft steps, in the order they are listed before the shuffle: per scope, its neighbourhoods.
ROUND: tuple[tuple[Scope, tuple[SoftNeighbourhood, ...]], ...] = (
    (Scope.TOWNSHIP, (WholeTownship,)),
    (Scope.SPECIALTY, (WholeSpecialty, Colleagues, ReassignSpecialty)),
    (Scope.MONTH, (ReassignAcross,)),
    (Scope.TOWNSHIP, (ThinDay, WholeDays)),
    (Scope.LINK, (Visit,)),
    (Scope.WEEK, (Week,)),
)


def soft_round(context: SearchContext) -> list[Option]:
    """The soft steps of one round, shuffled; each computes what it frees when its turn comes."""
    options = []
    for scope, neighbourhoods in ROUND:
        for place in context.items(scope):
            for neighbourhood in neighbourhoods:
                option = neighbourhood.option(context, place)
                if option is not None:
                    options.append(option)
    context.rng.shuffle(options)
    return options


def steps(context: SearchContext, deadline: float, coverage_settled: Callable[[], bool] = lambda: False) -> Iterator[Step]:
    """The search's steps, without end: the rounds and the steps between them (see the module's docstring)."""
    every = context.config.flow_every
    first_round = True
    since_flow = every
    chained = None  # the incumbent the last chains step was taken from
    while True:
        options = soft_round(context)
        if first_round:  # visits carried by ordinary sessions gain the most: try each once first
            options.sort(key=lambda option: option.kind is not Kind.VISIT)
            first_round = False
        for option in options:
            if since_flow >= every:
                since_flow = 0
                proposal = proposal_step(context, deadline)
                if proposal is not None:
                    yield proposal
            if since_flow in (0, every // 2):
                yield from stuck_township_steps(context)
            since_flow += 1
            if not coverage_settled() and context.incumbent() is not chained and short_rows(context):
                chained = context.incumbent()
                yield Step(Kind.CHAINS, "augmenting chains", set())
            targeted = None if coverage_settled() else unmet_step(context)
            if targeted is not None:
                yield targeted
            step = option.take()
            if step.free:
                yield step
