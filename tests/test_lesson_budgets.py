"""The lessons' reading budgets: each numbered lesson (the bonus ones too) at most 2,500 words of markdown,
the series at most 13,000 (the bonus lessons are read apart), and each "## What you saw" recap at most
200. A word is what `str.split` separates, over the markdown cells; what a curious learner may want
beyond the story goes to docs/behind_the_numbers.md."""
import json
import re
from pathlib import Path

import pytest

from utils.core.notebook_runner import BONUS, LESSONS

LESSON_WORDS = 2_500
SERIES_WORDS = 13_000
RECAP_WORDS = 200
RECAP = "## What you saw"
SECTION_END = re.compile(r"^#{1,2} ", re.M)  # a heading of level 1 or 2 ends a section


def markdown(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def words(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


def recap(cells: list[str]) -> str:
    """The "## What you saw" section: the markdown cell that starts with that heading, up to the next
    heading of level 2 or less (a "## Check yourself" after it is a section of its own) or the cell's end."""
    found = [text for text in cells if text.startswith(RECAP)]
    assert len(found) == 1, f"want one markdown cell starting with {RECAP!r}, found {len(found)}"
    body = found[0][len(RECAP):]
    end = SECTION_END.search(body)
    return RECAP + (body[:end.start()] if end else body)


def test_there_are_lessons_to_count():
    assert len(LESSONS) >= 6


@pytest.mark.parametrize("path", LESSONS + BONUS, ids=lambda p: p.name[:2])
def test_a_lesson_is_at_most_2500_words_of_markdown(path):
    count = words(markdown(path))
    assert count <= LESSON_WORDS, (f"{path.name}: {count:,} words of markdown, over {LESSON_WORDS:,}: cut repetition, "
                                   f"or move what the story does not need to docs/behind_the_numbers.md")


@pytest.mark.parametrize("path", LESSONS + BONUS, ids=lambda p: p.name[:2])
def test_a_lessons_what_you_saw_is_at_most_200_words(path):
    count = words([recap(markdown(path))])
    assert count <= RECAP_WORDS, f"{path.name}: {RECAP!r} has {count} words, over {RECAP_WORDS}"


def test_the_series_is_at_most_13000_words_of_markdown():
    count = sum(words(markdown(path)) for path in LESSONS)
    assert count <= SERIES_WORDS, f"the {len(LESSONS)} lessons have {count:,} words of markdown, over {SERIES_WORDS:,}"


def test_the_recap_runs_to_the_next_heading_of_level_two_or_the_end_of_its_cell():
    cell = "## What you saw\n\n- one two\n\n### A detail\nthree\n\n## Check yourself\n1. four five"
    assert recap(["# Title", cell]) == "## What you saw\n\n- one two\n\n### A detail\nthree\n\n"
    assert words([recap([cell])]) == 11
    assert recap(["## What you saw\n- six\n#### deeper\nseven"]) == "## What you saw\n- six\n#### deeper\nseven"
    with pytest.raises(AssertionError, match="found 0"):
        recap(["## Summary\n- eight"])
