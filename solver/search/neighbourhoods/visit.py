"""Visit: a member's link visit as one of their ordinary sessions rather than a supervision on top."""

from __future__ import annotations

from solver.bounds import supervision_links
from solver.search.context import SearchContext
from solver.search.kinds import Kind, Option, Scope


def visit_with_sessions(context: SearchContext, link) -> set[int]:
    """The linked township, the member's whole month, and their specialty colleagues where the member serves now,
    so a session there can pass to a colleague while the member takes one at the linked township on the visit day."""
    candidates, groups = context.candidates, context.groups
    free = set(groups.by_township.get(link.township, ())) | set(candidates.by_expert.get(link.member, ()))
    serving = {candidates.items[i].township for i in context.chosen() if candidates.items[i].expert == link.member}
    specialties = {c.key.specialty for i in candidates.by_expert.get(link.member, ()) if (c := candidates.items[i]).key is not None}
    for specialty in specialties:
        for colleague in groups.holders[specialty]:
            free.update(i for i in groups.by_expert_specialty[(colleague, specialty)] if candidates.items[i].township in serving)
    return free


class Visit:
    """Worth trying only where a visit can ride on a session (not at `solver.bounds.supervision_links`); the
    first round takes these before any other, once each: they gain the most."""

    kind = Kind.VISIT
    scope = Scope.LINK

    @staticmethod
    def option(context: SearchContext, link) -> Option | None:
        """The link's visit step, or None where its visits can only be supervisions."""
        if (link.member, link.township) in supervision_links(context.problem, context.candidates):
            return None
        return Option(Kind.VISIT, f"visit {link.member}@{link.township}", lambda: visit_with_sessions(context, link))
