"""The README stays a landing page: short, its links resolve, its test command is CI's."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def test_readme_is_at_most_300_lines() -> None:
    assert len(README.read_text().splitlines()) <= 300


def test_every_relative_link_in_the_readme_names_a_file_in_the_repository() -> None:
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README.read_text())
    relative = [t for t in targets if "://" not in t]
    assert relative, "the README links to no docs page"
    assert [t for t in relative if not (ROOT / t).is_file()] == []


def test_ci_runs_the_readmes_test_command_verbatim() -> None:
    text = README.read_text()
    block = text[text.index("Run the test suite") :]
    command = re.search(r"```bash\n(.+?)\n```", block, re.S)
    assert command is not None
    assert command.group(1) == "pip install -e '.[test]' && python -m pytest"
    assert command.group(1) in (ROOT / ".ci" / "run").read_text().splitlines()
