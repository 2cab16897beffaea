"""The notebooks' checks stay out of the learner's way: no nbval markers or run switches in the cells, no
reference figures in the outputs, and every `expect` name backed by exactly one entry of the notebook's
own file in tests/references/ (utils/lessons/checks.py), with no entry left unused."""
import json
import re
from pathlib import Path

import pytest

from utils.core.config import REPO_ROOT
from utils.lessons.checks import REFERENCES, load_references

NOTEBOOKS = REPO_ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.rglob("*.ipynb"))
EXPECT_NAME = re.compile(r'\bexpect\(\s*"([^"]+)"')


def name(path: Path) -> str:
    return path.relative_to(NOTEBOOKS).as_posix()


def code(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def reference_file(path: Path) -> Path:
    """A lesson's references are named after it; an exercise's or solution's after its folder and itself."""
    folder = path.parent.relative_to(NOTEBOOKS).as_posix()
    return REFERENCES / f"{'' if folder == '.' else folder + '_'}{path.stem}.json"


def test_there_are_notebooks_of_every_kind():
    assert {p.parent.name for p in ALL} == {"notebooks", "exercises", "solutions", "bonus"}


@pytest.mark.parametrize("path", ALL, ids=name)
def test_no_test_machinery_in_the_cells(path):
    for source in code(path):
        assert "NBVAL_" not in source, "nbval markers are cell tags (nbval-check-output), not comments"
        assert "needs_full_run" not in source and "claim(lambda" not in source, source


@pytest.mark.parametrize("path", ALL, ids=name)
def test_no_output_prints_a_reference_figure(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    printed = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    assert not [text for text in printed if "(reference " in text]


@pytest.mark.parametrize("path", ALL, ids=name)
def test_every_expect_has_an_entry_in_the_notebooks_references_and_every_entry_is_used(path):
    sources = code(path)
    used = [found for source in sources for found in EXPECT_NAME.findall(source)]
    assert sum(source.count("expect(") for source in sources) == len(used), "every expect() starts with its name"
    assert len(set(used)) == len(used), f"a name used twice: {used}"
    file = reference_file(path)
    listed = json.loads(file.read_text(encoding="utf-8")) if file.exists() else {}
    assert set(used) == set(listed), (f"used in {name(path)}, not in {file.name}: {set(used) - set(listed)}; "
                                      f"in {file.name}, unused: {set(listed) - set(used)}")


def test_every_reference_file_belongs_to_a_notebook_and_every_entry_is_well_formed():
    files = {reference_file(p) for p in ALL}
    assert sorted(REFERENCES.glob("*.json")) and set(REFERENCES.glob("*.json")) <= files
    # Raises on a name in two files, a tolerance below 0, or values that are not a non-empty dict of numbers.
    assert load_references()
