"""Checks across lists of a scenario: unique ids and references that must exist.

They run on the raw document so that they report alongside structural errors, and they
tolerate any broken shape (a structural error for that spot is reported elsewhere).
"""

from __future__ import annotations

from typing import Any, Iterator

from scheduler.errors import FieldError
from scheduler.scenario.fields import nfc
from scheduler.scenario.messages import coded


def _items(document: dict, key: str) -> Iterator[tuple[int, dict]]:
    rows = document.get(key)
    if isinstance(rows, list):
        for index, row in enumerate(rows):
            if isinstance(row, dict):
                yield index, row


def _ids(document: dict, key: str, id_field: str) -> tuple[set[str] | None, list[FieldError]]:
    if not isinstance(document.get(key), list):
        return None, []  # the list itself is broken (reported elsewhere): no reference into it can be judged
    seen: dict[str, int] = {}
    problems = []
    for index, row in _items(document, key):
        value = row.get(id_field)
        if not isinstance(value, str):
            continue
        value = nfc(value)  # ids are compared as the schema stores them
        if value in seen:
            problems.append(coded(f"{key}[{index}].{id_field}", "duplicate_id", field=id_field, got=value, also_path=f"{key}[{seen[value]}]"))
        else:
            seen[value] = index
    return set(seen), problems


def _dangling(value: Any, known: set[str] | None, path: str, what: str) -> list[FieldError]:
    if known is not None and isinstance(value, str) and nfc(value) not in known:
        return [coded(path, "unknown_reference", what=what, got=value)]
    return []


def _duplicates_in_list(values: Any, path: str, what: str) -> list[FieldError]:
    problems = []
    if isinstance(values, list):
        seen: set[Any] = set()
        for index, value in enumerate(values):
            if not isinstance(value, (str, int)):
                continue
            value = nfc(value) if isinstance(value, str) else value
            if value in seen:
                problems.append(coded(f"{path}[{index}]", "listed_twice", what=what, got=value))
            seen.add(value)
    return problems


def reference_problems(document: dict) -> list[FieldError]:
    """Every duplicate id and dangling reference in the document, in file order."""
    specialties, problems = _ids(document, "specialties", "code")
    departments, more = _ids(document, "departments", "code")
    problems += more
    townships, more = _ids(document, "townships", "id")
    problems += more
    experts, more = _ids(document, "experts", "id")
    problems += more

    for index, township in _items(document, "townships"):
        problems += _duplicates_in_list(township.get("preferred_weekdays"), f"townships[{index}].preferred_weekdays", "weekday")

    for index, expert in _items(document, "experts"):
        base = f"experts[{index}]"
        problems += _dangling(expert.get("department"), departments, f"{base}.department", "department")
        codes = expert.get("specialties")
        if isinstance(codes, list):
            for position, code in enumerate(codes):
                problems += _dangling(code, specialties, f"{base}.specialties[{position}]", "specialty")
            problems += _duplicates_in_list(codes, f"{base}.specialties", "specialty")
        previous = expert.get("previous_townships")
        if isinstance(previous, list):
            for position, township_id in enumerate(previous):
                problems += _dangling(township_id, townships, f"{base}.previous_townships[{position}]", "township")
        problems += _duplicates_in_list(expert.get("avoid_weekdays"), f"{base}.avoid_weekdays", "weekday")

    linked: dict[tuple[str, str], str] = {}
    for index, link in _items(document, "links"):
        base = f"links[{index}]"
        member = link.get("member")
        problems += _dangling(member, experts, f"{base}.member", "expert")
        names = link.get("townships")
        if isinstance(names, list):
            for position, township_id in enumerate(names):
                path = f"{base}.townships[{position}]"
                problems += _dangling(township_id, townships, path, "township")
                if isinstance(member, str) and isinstance(township_id, str):
                    pair = (nfc(member), nfc(township_id))
                    if pair in linked:
                        problems.append(coded(path, "already_linked", member=member, township=township_id, at_path=linked[pair]))
                    else:
                        linked[pair] = path

    for index, row in _items(document, "demand"):
        base = f"demand[{index}]"
        problems += _dangling(row.get("township"), townships, f"{base}.township", "township")
        problems += _dangling(row.get("specialty"), specialties, f"{base}.specialty", "specialty")
    return problems
