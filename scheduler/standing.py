"""Item-level changes to the standing data (one expert, township, link or demand row) through the scenario contract.

Every change is made on the exported scenario document and stored with `store.import_scenario`,
so an item obeys exactly the rules a scenario file does (`rota.scenario/1`), and a problem is
reported with the path of the field inside the item (`department`, `specialties[0]`).
Unavailability written by events (leave) is kept out of the document: it has its own rows.

Every change is also an event: the stored scenario before and the new one are compared
(`events.record_standing_changes`) and one event per change that can bear on a roster (rooms, ward,
demand, an expert's limit, specialties, department or title, links, department minimums, the
calendar, the rules) is recorded in the same transaction, so the event worker re-checks every month
with a roster against the new data. A whole scenario imported over an existing community
(`PUT /scenario`, `rota import`) goes the same way.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import events, store
from scheduler.errors import Conflict, FieldError, NotFound, ScenarioError
from scheduler.events.kinds.expert import ExpertPayload
from scheduler.events.kinds.item_changes import FieldChange
from scheduler.models import SCENARIO_SOURCE, Expert, ExpertUnavailability
from scheduler.scenario.load import validate_document
from scheduler.scenario.schema import Scenario

LISTS = {"experts": "id", "townships": "id", "specialties": "code", "departments": "code"}
SINGULAR = {"experts": "expert", "townships": "township", "specialties": "specialty", "departments": "department"}


def scenario_document(session: Session, community: store.CommunityRef) -> dict[str, Any]:
    """A community's stored scenario as a document, with only the file's own unavailability (not leave filed later)."""
    document = store.export_document(session, community)
    owner = store.community_id_of(session, community)
    file_periods: dict[str, list[dict[str, Any]]] = {}
    query = (
        select(Expert.code, ExpertUnavailability)
        .join(ExpertUnavailability.expert)
        .where(Expert.community_id == owner, ExpertUnavailability.source == SCENARIO_SOURCE)
        .order_by(ExpertUnavailability.position, ExpertUnavailability.id)
    )
    for code, period in session.execute(query):
        file_periods.setdefault(code, []).append(store._unavailability_document(period))
    for expert in document["experts"]:
        expert["unavailable"] = file_periods.get(expert["id"], [])
    return document


_ITEM_PATH = re.compile(r"^(?P<list>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<rest>.*))?$")


def _focused(problems: list[FieldError], list_name: str, index: int | None) -> list[FieldError]:
    """Problems of the item being changed get paths relative to it; others keep their document path."""
    if index is None:
        return problems
    focused = []
    for problem in problems:
        match = _ITEM_PATH.match(problem.path)
        if match and match["list"] == list_name and int(match["index"]) == index:
            focused.append(FieldError(match["rest"] or "", problem.message))
        else:
            focused.append(problem)
    return focused


def _validated(document: dict[str, Any], list_name: str | None, index: int | None, *, removing: bool) -> Scenario:
    try:
        return validate_document(document, source="the scenario")
    except ScenarioError as error:
        if removing:
            # Removing an item that others still point at is a conflict with the current state, not bad input.
            raise Conflict("; ".join(str(p) for p in error.problems) + " (remove or change those references first)") from None
        raise ScenarioError(_focused(error.problems, list_name or "", index)) from None


def _store(
    session: Session, community: store.CommunityRef, before: dict[str, Any], document: dict[str, Any], list_name: str | None = None, index: int | None = None,
    *, removing: bool = False,
) -> list[int]:
    """Store the changed document and record the events of what changed; returns the event ids."""
    scenario = _validated(document, list_name, index, removing=removing)
    previous = validate_document(before, source="the stored scenario")
    owner = store.get_community(session, community)
    store.import_scenario(session, owner.code, scenario)
    return events.record_standing_changes(session, owner.id, previous, scenario)


def _editable(session: Session, community: store.CommunityRef) -> tuple[dict[str, Any], dict[str, Any]]:
    """The stored document twice: as it is (to compare with) and a copy to change."""
    before = scenario_document(session, community)
    return before, copy.deepcopy(before)


def import_community(session: Session, code: str, scenario: Scenario) -> int:
    """Import a whole scenario as community `code` (`rota import`): a new community is created; over an existing one, every change is an event."""
    try:
        existing = store.get_community(session, code)
    except NotFound:
        return store.import_scenario(session, code, scenario)
    previous = validate_document(scenario_document(session, existing.id), source="the stored scenario")
    community_id = store.import_scenario(session, code, scenario)
    events.record_standing_changes(session, community_id, previous, scenario)
    return community_id


def import_whole(session: Session, community: store.CommunityRef, scenario: Scenario) -> int:
    """Import a whole scenario as an existing community's standing data (Conflict if the file names another community)."""
    owner = store.get_community(session, community)
    if scenario.community.name != owner.name:
        # A guard against loading another county's file over this one; a rename goes through `rota import`.
        raise Conflict(
            f"community '{owner.code}' is {owner.name}; a scenario for '{scenario.community.name}' cannot be imported into it "
            f"(to rename it: rota import FILE --community {owner.code})"
        )
    return import_community(session, owner.code, scenario)


def _position(items: list[dict[str, Any]], key_field: str, key: str) -> int | None:
    return next((i for i, item in enumerate(items) if item.get(key_field) == key), None)


def list_items(session: Session, community: store.CommunityRef, list_name: str) -> list[dict[str, Any]]:
    """Every item of a keyed list (experts, townships, specialties, departments) as in the scenario file."""
    return scenario_document(session, community)[list_name]


def get_item(session: Session, community: store.CommunityRef, list_name: str, key: str) -> dict[str, Any]:
    """One item of a keyed list; NotFound otherwise."""
    items = list_items(session, community, list_name)
    position = _position(items, LISTS[list_name], key)
    if position is None:
        raise NotFound(f"no {SINGULAR[list_name]} '{key}'")
    return items[position]


def put_item(session: Session, community: store.CommunityRef, list_name: str, item: dict[str, Any], *, create_only: bool = False) -> bool:
    """Create or replace one item of a keyed list; return True when it was created."""
    before, document = _editable(session, community)
    key_field = LISTS[list_name]
    items = document[list_name]
    position = _position(items, key_field, item.get(key_field))
    if position is not None and create_only:
        raise Conflict(f"{SINGULAR[list_name]} '{item.get(key_field)}' already exists (use PUT to change it)")
    if position is None:
        items.append(item)
        position = len(items) - 1
        created = True
    else:
        items[position] = item
        created = False
    _store(session, community, before, document, list_name, position)
    return created


def delete_item(session: Session, community: store.CommunityRef, list_name: str, key: str) -> None:
    """Remove one item of a keyed list (Conflict while links or demand still point at it)."""
    before, document = _editable(session, community)
    items = document[list_name]
    position = _position(items, LISTS[list_name], key)
    if position is None:
        raise NotFound(f"no {SINGULAR[list_name]} '{key}'")
    del items[position]
    _store(session, community, before, document, removing=True)


# --- links -------------------------------------------------------------------------------------


def list_links(session: Session, community: store.CommunityRef) -> list[dict[str, Any]]:
    """The link assignments (挂点) as in the scenario file: one entry per member."""
    return scenario_document(session, community)["links"]


def set_links(session: Session, community: store.CommunityRef, member: str, townships: list[str]) -> bool:
    """Set the townships a committee member is linked to; return True when the member had no links before."""
    before, document = _editable(session, community)
    links = document["links"]
    position = _position(links, "member", member)
    entry = {"member": member, "townships": list(townships)}
    created = position is None
    if created:
        links.append(entry)
        position = len(links) - 1
    else:
        links[position] = entry
    _store(session, community, before, document, "links", position)
    return created


def delete_links(session: Session, community: store.CommunityRef, member: str) -> None:
    """Remove every link of a committee member."""
    before, document = _editable(session, community)
    position = _position(document["links"], "member", member)
    if position is None:
        raise NotFound(f"expert '{member}' has no links")
    del document["links"][position]
    _store(session, community, before, document)


# --- demand ------------------------------------------------------------------------------------


def list_demand(session: Session, community: store.CommunityRef) -> list[dict[str, Any]]:
    """The demand rows in file order (a row's index is its id in the API)."""
    return scenario_document(session, community)["demand"]


def add_demand(session: Session, community: store.CommunityRef, row: dict[str, Any]) -> int:
    """Append a demand row; return its index."""
    before, document = _editable(session, community)
    document["demand"].append(copy.deepcopy(row))
    index = len(document["demand"]) - 1
    _store(session, community, before, document, "demand", index)
    return index


def replace_demand(session: Session, community: store.CommunityRef, index: int, row: dict[str, Any]) -> None:
    """Replace the demand row at an index."""
    before, document = _editable(session, community)
    if not 0 <= index < len(document["demand"]):
        raise NotFound(f"no demand row {index}")
    document["demand"][index] = copy.deepcopy(row)
    _store(session, community, before, document, "demand", index)


def delete_demand(session: Session, community: store.CommunityRef, index: int) -> None:
    """Remove the demand row at an index (later rows move up by one)."""
    before, document = _editable(session, community)
    if not 0 <= index < len(document["demand"]):
        raise NotFound(f"no demand row {index}")
    del document["demand"][index]
    _store(session, community, before, document)


# --- calendar ----------------------------------------------------------------------------------


def get_calendar(session: Session, community: store.CommunityRef) -> dict[str, Any]:
    """The community calendar as in the scenario file: the holiday calendar, closed days and make-up working days."""
    return scenario_document(session, community)["calendar"]


def set_calendar(session: Session, community: store.CommunityRef, calendar: dict[str, Any]) -> list[int]:
    """Replace the community calendar (closed days, make-up working days); returns the events recorded."""
    before, document = _editable(session, community)
    document["calendar"] = copy.deepcopy(calendar)
    return _store(session, community, before, document, "calendar", None)


# --- unavailability ----------------------------------------------------------------------------


def expert_unavailability(session: Session, community: store.CommunityRef, expert_id: str) -> list[ExpertUnavailability]:
    """Every unavailability row of a community's expert (from the file and from leave), oldest first."""
    expert = store.expert_row(session, community, expert_id)
    return sorted(expert.unavailable, key=lambda p: (p.source != SCENARIO_SOURCE, p.position, p.id))


def delete_unavailability(session: Session, community: store.CommunityRef, expert_id: str, unavailability_id: int) -> None:
    """Remove one unavailability row of an expert (the expert can be rostered on those days again)."""
    for period in expert_unavailability(session, community, expert_id):
        if period.id == unavailability_id:
            gone = store._unavailability_document(period)
            session.delete(period)
            session.flush()
            # The expert can be rostered on those days again: coverage may rise.
            removed = FieldChange(before=[_json(gone)], after=[])
            events.record(session, store.community_id_of(session, community), ExpertPayload(expert=expert_id, changes={"unavailable": removed}))
            return
    raise NotFound(f"expert '{expert_id}' has no unavailability {unavailability_id}")


def _json(period: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in period.items()}
