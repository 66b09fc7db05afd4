"""The tests' own layout: what they share lives in tests/support/, never in another test module."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).parent
IMPORT_OF_A_TEST_MODULE = re.compile(r"^\s*(from|import)\s+tests\.[\w.]*\btest_\w+")


def test_no_test_module_imports_from_another() -> None:
    offenders = [
        f"{path.relative_to(TESTS)}:{number}: {line.strip()}"
        for path in sorted(TESTS.rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if IMPORT_OF_A_TEST_MODULE.match(line)
    ]
    assert offenders == [], "move what they share to tests/support/:\n" + "\n".join(offenders)
