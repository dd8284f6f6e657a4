"""The typed Finding (ddkit.schema) and the list of a finding's keys docs/outputs.md writes by hand."""

from __future__ import annotations

import re
from pathlib import Path

from ddkit.schema import DTYPES, FINDING_COLUMNS, Finding, _FindingColumns

DOCS = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"


def _without_parentheses(text: str) -> str:
    # "(`critical` > `high` ...)" explains a key's values: not a key. Nested parentheses are removed inside out.
    while True:
        shorter = re.sub(r"\([^()]*\)", "", text)
        if shorter == text:
            return text
        text = shorter


def documented_keys() -> tuple[list[str], list[str]]:
    """(the keys every finding has first, the keys that follow), in the order docs/outputs.md lists them."""
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("Each **finding** has, first:")
    para = text[start:text.index("\n\n", start)]
    first, then = para.split("Then these keys", 1)

    def keys(part: str) -> list[str]:
        return [k.split(":")[0] for k in re.findall(r"`([^`]+)`", _without_parentheses(part))]
    return keys(first), keys(then)


def test_the_documented_keys_are_the_finding_type():
    first, then = documented_keys()
    assert len(first) >= 9 and len(then) >= 10          # the parse above found the lists (else nothing is checked)
    assert "person_id" not in first + then               # internal: never shown, never documented as output
    typed = [k for k in Finding.__annotations__ if k != "person_id"]
    assert sorted(first + then) == sorted(typed)
    assert len(set(first + then)) == len(first + then)
    # the columns every finding has, in the order the tables and reports give them
    assert list(_FindingColumns.__annotations__) == FINDING_COLUMNS
    assert [k for k in first + then if k in FINDING_COLUMNS] == FINDING_COLUMNS
    # the keys that are not columns are optional in the type
    assert Finding.__required_keys__ == frozenset(FINDING_COLUMNS)
    assert Finding.__optional_keys__ == frozenset(typed) - frozenset(FINDING_COLUMNS) | {"person_id"}


def test_the_findings_table_declares_every_key_of_the_type():
    assert set(DTYPES["findings"]) == set(Finding.__annotations__)


def test_a_missing_key_in_the_docs_is_caught():
    # positive control: the parse is what the first test relies on; a key dropped from the list is seen
    first, then = documented_keys()
    assert "fingerprint" in then and "rolled_up" in then and "id" in first
    assert sorted(first + then[:-1]) != sorted(k for k in Finding.__annotations__ if k != "person_id")
