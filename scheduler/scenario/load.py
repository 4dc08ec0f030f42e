"""Turn bytes (YAML or JSON) into a validated `Scenario`, or a `ScenarioError` listing every problem.

Reading is bounded, so a hostile file is refused in bounded time and memory:
- at most `ROTA_SCENARIO_MAX_BYTES` bytes (settings), checked before anything is decoded;
- at most MAX_VALUES values (scalars, lists and mappings) with every YAML alias counted in full, and at
  most MAX_DEPTH levels of nesting. YAML anchors and aliases stay allowed (PyYAML's own `safe_dump` writes
  them for a value used twice, so other tools' files may hold them), but an alias bomb ("billion laughs")
  or a recursive alias is refused before any validation walks it;
- a key twice in one mapping is an error naming the key and its path (YAML and JSON both), not "last wins";
- an error message shows at most a few dozen characters of a value (`fields.shown`).
The time limit and the separate process are `bounded.parse_scenario_bounded`'s.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from config.settings import get_settings
from scheduler.errors import FieldError, ScenarioError
from scheduler.scenario.messages import CATALOGUE, CodedFieldError, coded
from scheduler.scenario.shown import shown
from scheduler.scenario.references import reference_problems
from scheduler.scenario.schema import Scenario

MAX_VALUES = 500_000  # a 2 MB scenario holds ~250,000; the largest county community ~30,000
MAX_DEPTH = 32  # a scenario nests 6 levels deep
MAX_PROBLEMS = 200  # problems listed in one ScenarioError; the rest are counted
_INT_DIGITS = 4000  # Python refuses int() past 4300 digits; longer numbers stay text (and fail as "a whole number")

# id(mapping) -> [(key, (first line, second line) or None)] for the keys a mapping was given twice, filled while decoding.
DuplicateKeys = dict[int, list[tuple[Any, tuple[int, int] | None]]]

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built with it: ~6x faster


class _ScenarioYamlLoader(_SafeLoader):  # type: ignore[misc, valid-type]
    """SafeLoader without YAML 1.1's sexagesimal integers (an unquoted 14:30 stays a string), noting duplicate keys."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.duplicate_keys: DuplicateKeys = {}

    def construct_yaml_map(self, node: yaml.MappingNode):  # type: ignore[override]
        data: dict[Any, Any] = {}
        yield data
        self._note_duplicate_keys(node, data)
        data.update(self.construct_mapping(node))

    def _note_duplicate_keys(self, node: yaml.MappingNode, data: dict) -> None:
        first_line: dict[tuple[str, str], int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden by the keys beside it: that is what a merge is for
            line = key_node.start_mark.line + 1
            key = (key_node.tag, key_node.value)
            if key in first_line:
                self.duplicate_keys.setdefault(id(data), []).append((key_node.value, (first_line[key], line)))
            else:
                first_line[key] = line


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


def _int_or_text(loader: yaml.SafeLoader, node: yaml.Node):
    # int() refuses more than 4300 digits with a bare ValueError; keep such a number as text.
    text = loader.construct_scalar(node)
    if len(text) > _INT_DIGITS:
        return text
    return yaml.SafeLoader.construct_yaml_int(loader, node)


_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)
_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:int", _int_or_text)
_ScenarioYamlLoader.add_constructor("tag:yaml.org,2002:map", _ScenarioYamlLoader.construct_yaml_map)
_INT = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$")
_ScenarioYamlLoader.add_implicit_resolver("tag:yaml.org,2002:int", _INT, list("-+0123456789"))


def _key_text(key: Any) -> str:
    # A key is shown as written when it is short, printable text; else bounded (a key may be a megabyte long).
    if isinstance(key, str) and len(key) <= 40 and key.isprintable() and key.strip() == key and key:
        return "from" if key == "from_" else key
    return shown(key, 40)


def _path(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + _key_text(part)
    return text


# pydantic's own error types -> our message codes (custom validators raise coded errors themselves)
_PYDANTIC_CODES = {
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "literal_error": "one_of",
    "int_type": "whole_number",
    "int_parsing": "whole_number",
    "int_from_float": "whole_number",
    "string_type": "text",
    "bool_type": "true_or_false",
    "list_type": "list",
    "model_type": "mapping",
    "model_attributes_type": "mapping",
    "dict_type": "mapping",
    "greater_than_equal": "at_least",
    "less_than_equal": "at_most",
    "too_short": "not_empty",
    "string_too_short": "not_empty",
}


def _coded(error: dict[str, Any]) -> CodedFieldError:
    path = _path(tuple(error["loc"]))
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in CATALOGUE:  # raised by our own validators with its parameters
        return coded(path, kind, **context)
    code = _PYDANTIC_CODES.get(kind)
    given = error.get("input")
    if code in ("missing", "unknown_field", "not_empty"):
        return coded(path, code)
    if code == "one_of":
        return coded(path, code, expected=context.get("expected", ""), got=given)
    if code == "at_least":
        return coded(path, code, ge=context.get("ge"), got=given)
    if code == "at_most":
        return coded(path, code, le=context.get("le"), got=given)
    if code:
        return coded(path, code, got=given)
    return coded(path, "invalid", detail=str(error["msg"])[:120], got=given)


def _structure_problems(exc: ValidationError) -> list[FieldError]:
    return [_coded(error) for error in exc.errors(include_url=False)]


class _Refused(Exception):
    """The decoded document is too big or too deep to validate at all."""


class _DocumentShape:
    """One walk over a decoded document: its size with aliases expanded, its depth, and its duplicate keys by path.

    A YAML alias is decoded as the very object its anchor made, so sizes are memoised per object and the
    walk takes time in the objects the file holds, not in what its aliases expand to.
    """

    def __init__(self, duplicate_keys: DuplicateKeys, source: str) -> None:
        self.duplicate_keys = duplicate_keys
        self.source = source
        self.sizes: dict[int, int] = {}
        self.open: set[int] = set()
        self.problems: list[FieldError] = []

    def size(self, value: Any, path: str, depth: int) -> int:
        if not isinstance(value, (dict, list)):
            return 1
        key = id(value)
        if key in self.sizes:
            return self.sizes[key]
        if key in self.open:
            raise _Refused(f"{path or self.source}: a YAML alias refers to a value that holds the alias itself (a recursive alias)")
        if depth > MAX_DEPTH:
            raise _Refused(f"{self.source} is nested too deeply to be a scenario (more than {MAX_DEPTH} levels)")
        self.open.add(key)
        total = 1
        if isinstance(value, dict):
            for duplicate, lines in self.duplicate_keys.get(key, ()):
                if lines:
                    self.problems.append(coded(_join(path, duplicate), "duplicate_key_lines", got=duplicate, first=lines[0], second=lines[1]))
                else:
                    self.problems.append(coded(_join(path, duplicate), "duplicate_key", got=duplicate))
            children = ((_join(path, k), v) for k, v in value.items())
        else:
            children = ((f"{path}[{index}]", item) for index, item in enumerate(value))
        for child_path, child in children:
            total += self.size(child, child_path, depth + 1)
            if total > MAX_VALUES:  # named where it happens: the value (often an alias *name) that crossed the bound
                raise _Refused(
                    f"{child_path}: {self.source} holds more than {MAX_VALUES:,} values by here (each use of a YAML alias "
                    "*name counted in full): far more than a scenario needs"
                )
        self.open.discard(key)
        self.sizes[key] = total
        return total


def _join(path: str, key: Any) -> str:
    return f"{path}.{_key_text(key)}" if path else _key_text(key)


def _json_decoder(duplicate_keys: DuplicateKeys) -> json.JSONDecoder:
    def mapping(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for key, value in pairs:
            if key in data:
                duplicate_keys.setdefault(id(data), []).append((key, None))
            data[key] = value
        return data

    def whole_number(text: str) -> int | str:
        return int(text) if len(text) <= _INT_DIGITS else text

    return json.JSONDecoder(object_pairs_hook=mapping, parse_int=whole_number)


def _decode(raw: bytes | str, source: str, max_bytes: int) -> tuple[Any, DuplicateKeys]:
    size = len(raw.encode("utf-8")) if isinstance(raw, str) else len(raw)
    if size > max_bytes:
        raise ScenarioError([FieldError("", too_big_message(source, size, max_bytes))])
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if not text.strip():
        raise ScenarioError([FieldError("", f"{source} is empty")])
    stripped = text.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        duplicate_keys: DuplicateKeys = {}
        try:
            return _json_decoder(duplicate_keys).decode(text), duplicate_keys
        except json.JSONDecodeError as exc:
            if stripped.startswith("["):
                raise ScenarioError([FieldError("", f"{source} is not valid JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
            # YAML flow style is a superset; fall through.
    loader = _ScenarioYamlLoader(text)
    try:
        return loader.get_single_data(), loader.duplicate_keys
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f": line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own limit (1000 levels)
            raise RecursionError from None
        problem = problem if len(problem) <= 120 else problem[:117] + "..."  # an anchor name in it may be long
        raise ScenarioError([FieldError("", f"{source} is not valid YAML or JSON{where}: {problem}")]) from None
    finally:
        loader.dispose()


def too_big_message(source: str, size: int, max_bytes: int) -> str:
    """The one wording of "this file is over the size limit", for the parser and for callers that check first."""
    return f"{source} is {_megabytes(size)}, more than the {_megabytes(max_bytes)} a scenario may be (ROTA_SCENARIO_MAX_BYTES)"


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def parse_scenario(raw: bytes | str, source: str = "the scenario", *, max_bytes: int | None = None) -> Scenario:
    """Parse and validate a scenario document within the size, value and depth bounds; raise ScenarioError naming every problem."""
    limit = get_settings().scenario_max_bytes if max_bytes is None else max_bytes
    try:
        document, duplicate_keys = _decode(raw, source, limit)
        shape = _DocumentShape(duplicate_keys, source)
        shape.size(document, "", 0)
        scenario, problems = document_problems(document, source)
        problems = _unique(shape.problems + problems)
    except UnicodeDecodeError:
        raise ScenarioError([FieldError("", f"{source} is not UTF-8 text")]) from None
    except RecursionError:
        # The parsers and validators recurse per nesting level; a hostile file can exhaust the stack.
        raise ScenarioError([FieldError("", f"{source} is nested too deeply to be a scenario")]) from None
    except _Refused as exc:
        raise ScenarioError([FieldError("", str(exc))]) from None
    if problems:
        raise ScenarioError(capped(problems))
    assert scenario is not None
    return scenario


def validate_document(document: Any, source: str = "the scenario") -> Scenario:
    """Validate an already decoded document (a dict from YAML, JSON or an API body)."""
    scenario, problems = document_problems(document, source)
    if problems:
        raise ScenarioError(capped(problems))
    assert scenario is not None
    return scenario


def document_problems(document: Any, source: str = "the scenario") -> tuple[Scenario | None, list[FieldError]]:
    """The scenario a decoded document makes and every problem with it (all of them: callers cap for display)."""
    if document is None:
        return None, [coded("", "empty", source=source)]
    if not isinstance(document, dict):
        return None, [coded("", "not_a_mapping", source=source, kind=type(document).__name__)]
    problems: list[FieldError] = []
    if "format" in document and document["format"] != "rota.scenario/1":
        problems.append(coded("format", "unsupported_format", got=document["format"]))
    scenario: Scenario | None = None
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        problems.extend(p for p in _structure_problems(exc) if p.path != "format" or not problems)
    problems.extend(reference_problems(document))
    return (scenario if not problems else None), _unique(problems)


def capped(problems: list[FieldError]) -> list[FieldError]:
    """At most MAX_PROBLEMS problems, then one line counting the rest: what a person can read and act on."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    return problems[:MAX_PROBLEMS] + [FieldError("", f"... and {len(problems) - MAX_PROBLEMS:,} more problems not listed")]


def _unique(problems: list[FieldError]) -> list[FieldError]:
    seen: set[FieldError] = set()
    ordered = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            ordered.append(problem)
    return ordered


def read_bounded_file(path: str | Path, max_bytes: int) -> bytes:
    """At most `max_bytes` + 1 bytes of a file (one byte over is enough to refuse it by its size); ScenarioError if it cannot be read."""
    file_path = Path(path)
    try:
        if file_path.is_dir():
            raise IsADirectoryError
        with file_path.open("rb") as handle:
            return handle.read(max_bytes + 1)  # never more, whatever the file (a device, a file still growing) holds
    except FileNotFoundError:
        raise ScenarioError([FieldError("", f"no such file: {file_path}")]) from None
    except IsADirectoryError:
        raise ScenarioError([FieldError("", f"{file_path} is a directory, not a file to read")]) from None
    except OSError as exc:
        raise ScenarioError([FieldError("", f"cannot read {file_path}: {exc.strerror}")]) from None


def read_scenario_file(path: str | Path, *, max_bytes: int | None = None) -> bytes:
    """The bytes of a scenario file, refusing one over the size limit (read no further than the limit)."""
    file_path = Path(path)
    limit = get_settings().scenario_max_bytes if max_bytes is None else max_bytes
    raw = read_bounded_file(file_path, limit)
    if len(raw) > limit:
        size = file_path.stat().st_size if file_path.is_file() else len(raw)
        raise ScenarioError([FieldError("", too_big_message(file_path.name, max(size, len(raw)), limit))])
    return raw


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (YAML or JSON) in this process, within the size and value bounds."""
    file_path = Path(path)
    return parse_scenario(read_scenario_file(file_path), source=file_path.name)


def dump_scenario(scenario: Scenario, as_json: bool = False) -> str:
    """Write a scenario as YAML (default) or JSON text that `parse_scenario` reads back equal."""
    document = scenario.to_document()
    if as_json:
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
