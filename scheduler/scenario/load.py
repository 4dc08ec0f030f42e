"""Turn bytes (YAML or JSON) into a validated `Scenario`, or a `ScenarioError` listing every problem."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario.references import reference_problems
from scheduler.scenario.schema import Scenario


class _ScenarioYamlLoader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's sexagesimal integers, so an unquoted 14:30 stays a string."""


_ScenarioYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.Node):
    # YAML reads 2027-02-30 as a date and fails with a bare ValueError; keep the text so the
    # schema can say which field holds an impossible date.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return loader.construct_scalar(node)


_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_ScenarioYamlLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + ("from" if part == "from_" else str(part))
    return text


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    given = error.get("input")
    context = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "literal_error":
        return f"must be one of {context.get('expected', '')} (got {_shown(given)})"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number (got {_shown(given)})"
    if kind in ("string_type",):
        return f"must be a text string (got {_shown(given)})"
    if kind == "bool_type":
        return f"must be true or false (got {_shown(given)})"
    if kind in ("list_type",):
        return f"must be a list (got {_shown(given)})"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"must be a mapping of fields (got {_shown(given)})"
    if kind == "greater_than_equal":
        return f"must be at least {context.get('ge')} (got {_shown(given)})"
    if kind == "less_than_equal":
        return f"must be at most {context.get('le')} (got {_shown(given)})"
    if kind == "too_short":
        return "must not be empty"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    return f"{error['msg']} (got {_shown(given)})"


def _structure_problems(exc: ValidationError) -> list[FieldError]:
    problems = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if error["type"] == "extra_forbidden":
            problems.append(FieldError(_path(loc), "unknown field"))
        else:
            problems.append(FieldError(_path(loc), _message(error)))
    return problems


def _decode(raw: bytes | str, source: str) -> Any:
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if not text.strip():
        raise ScenarioError([FieldError("", f"{source} is empty")])
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                raise ScenarioError([FieldError("", f"{source} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
            # YAML flow style is a superset; fall through.
    try:
        return yaml.load(text, Loader=_ScenarioYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f": line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError([FieldError("", f"{source} is not valid YAML or JSON{where}: {problem}")]) from None


def parse_scenario(raw: bytes | str, source: str = "the scenario") -> Scenario:
    """Parse and validate a scenario document; raise ScenarioError naming every problem."""
    try:
        document = _decode(raw, source)
        return validate_document(document, source)
    except UnicodeDecodeError:
        raise ScenarioError([FieldError("", f"{source} is not UTF-8 text")]) from None
    except RecursionError:
        # The YAML and JSON parsers recurse per nesting level; a hostile file can exhaust the stack.
        raise ScenarioError([FieldError("", f"{source} is nested too deeply to be a scenario")]) from None


def validate_document(document: Any, source: str = "the scenario") -> Scenario:
    """Validate an already decoded document (a dict from YAML, JSON or an API body)."""
    if document is None:
        raise ScenarioError([FieldError("", f"{source} is empty")])
    if not isinstance(document, dict):
        raise ScenarioError([FieldError("", f"{source} must be a mapping at the top level (got a {type(document).__name__})")])
    problems: list[FieldError] = []
    if "format" in document and document["format"] != "rota.scenario/1":
        problems.append(FieldError("format", f"unsupported format {_shown(document['format'])}: expected 'rota.scenario/1'"))
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        problems.extend(p for p in _structure_problems(exc) if p.path != "format" or not problems)
    problems.extend(reference_problems(document))
    if problems:
        raise ScenarioError(_unique(problems))
    assert scenario is not None
    return scenario


def _unique(problems: list[FieldError]) -> list[FieldError]:
    seen: set[FieldError] = set()
    ordered = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            ordered.append(problem)
    return ordered


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON)."""
    file_path = Path(path)
    try:
        raw = file_path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([FieldError("", f"no such file: {file_path}")]) from None
    except IsADirectoryError:
        raise ScenarioError([FieldError("", f"{file_path} is a directory, not a scenario file")]) from None
    except OSError as exc:
        raise ScenarioError([FieldError("", f"cannot read {file_path}: {exc.strerror}")]) from None
    return parse_scenario(raw, source=file_path.name)


def dump_scenario(scenario: Scenario, as_json: bool = False) -> str:
    """Write a scenario as YAML (default) or JSON text that `parse_scenario` reads back equal."""
    document = scenario.to_document()
    if as_json:
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
