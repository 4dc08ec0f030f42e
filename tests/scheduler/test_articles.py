"""English messages put "an" before a vowel: every "a {noun}" with a variable noun goes through scheduler.i18n.with_article.

The messages of the fixed cases ("an office token", "an expert feed", "got an int") are checked as the service
says them, and a scan of the service's source finds any f-string that writes a bare `a {...}` again.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from scheduler import auth
from scheduler.errors import ScenarioError
from scheduler.i18n import with_article
from scheduler.scenario.messages import render
from scheduler.scenario.shown import shown

ROOT = Path(__file__).resolve().parent.parent.parent
SOURCES = ("scheduler", "api", "solver", "config")
BARE_ARTICLE = re.compile(r"(?<![A-Za-z'])a \{")


def test_with_article_picks_a_or_an():
    assert [with_article(noun) for noun in ("office", "expert", "int", "township", "bureau")] == [
        "an office", "an expert", "an int", "a township", "a bureau",
    ]


def test_an_office_token_names_its_community():
    with pytest.raises(ScenarioError) as refused:
        auth.create_api_token(None, None, "office")  # refused before the database is read
    message = str(refused.value)
    assert "an office token belongs to one community" in message and "a office" not in message


def test_an_expert_feed_needs_its_expert():
    with pytest.raises(ScenarioError) as refused:
        auth._check_feed_scope(None, 1, "expert", "")  # the check create_feed_token makes first
    assert str(refused.value) == "key: an expert feed needs the expert it shows"


def test_a_value_of_another_type_is_shown_with_its_article():
    assert shown(object()) == "an object"
    assert render("not_a_mapping", {"source": "county.yaml", "kind": "int"}, "en") == "county.yaml must be a mapping at the top level (got an int)"
    assert render("not_a_mapping", {"source": "county.yaml", "kind": "list"}, "en").endswith("(got a list)")
    assert "an" not in render("not_a_mapping", {"source": "county.yaml", "kind": "int"}, "zh-CN")


def _f_strings(path: Path) -> list[tuple[int, str]]:
    found = []
    for token in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if token.type == tokenize.STRING and re.match(r"^[rRbB]*[fF]", token.string):
            found.append((token.start[0], token.string))
    return found


def test_no_f_string_of_the_service_writes_a_bare_a_before_a_field():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for folder in SOURCES
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, text in _f_strings(path)
        if BARE_ARTICLE.search(text)
    ]
    assert offenders == []


def test_the_scan_finds_a_bare_article(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('role = "office"\nmessage = f"a {role} token"\nfine = f"{with_article(role)} token"\n', encoding="utf-8")
    assert [line for line, text in _f_strings(sample) if BARE_ARTICLE.search(text)] == [2]
