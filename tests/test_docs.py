"""The learner's scaffolding around the notebooks, checked without running them: glossary links that
resolve, papers with their references, each lesson's opening and recap, exercises that check themselves,
and optional try-it cells that do not run by default."""
import json
import re
from pathlib import Path

import pytest

from utils.core.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
EXERCISES = sorted((NOTEBOOKS / "exercises").glob("*.ipynb"))
SOLUTIONS = sorted((NOTEBOOKS / "solutions").glob("*.ipynb"))
GLOSSARY = REPO_ROOT / "docs" / "glossary.md"
REFERENCES = REPO_ROOT / "docs" / "references.md"
GLOSSARY_LINK = re.compile(r"\]\((?:\.\./)+docs/glossary\.md#([^)]+)\)")


def cells(path: Path, kind: str | None = None) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def glossary_anchors() -> set[str]:
    return {github_anchor(h) for h in re.findall(r"^### (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.M)}


def test_github_anchor():
    assert github_anchor("KV cache") == "kv-cache" and github_anchor("Schema-valid") == "schema-valid"


def test_every_glossary_link_in_the_notebooks_resolves():
    anchors = glossary_anchors()
    broken = [(path.name, a) for path in LESSONS + EXERCISES + SOLUTIONS
              for text in cells(path, "markdown") for a in GLOSSARY_LINK.findall(text) if a not in anchors]
    inside = re.findall(r"\]\(#([^)]+)\)", GLOSSARY.read_text(encoding="utf-8"))
    assert not broken and set(inside) <= anchors, (broken, set(inside) - anchors)


def test_every_glossary_term_is_linked_from_a_lesson():
    linked = {a for path in LESSONS for text in cells(path, "markdown") for a in GLOSSARY_LINK.findall(text)}
    assert glossary_anchors() - linked == set()


def test_every_paper_the_lessons_cite_is_in_the_references_with_its_arxiv_link():
    rows = [line for line in REFERENCES.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    cited = {name for path in LESSONS for text in cells(path)
             for name in re.findall(r"([A-Z][\w-]+)(?: et al\.| & [A-Z][\w-]+)", text)}
    assert {"Berglund", "Ovadia", "Allen-Zhu", "Gekhman", "Zhou", "Zhang"} <= cited  # what the regex must see
    for name in cited:
        row = next((r for r in rows if r.startswith(f"| {name}")), None)
        assert row is not None, f"{name} is cited in a notebook but has no row in docs/references.md"
        assert re.search(r"\[arXiv:\d{4}\.\d{4,5}\]\(https://arxiv\.org/abs/\d{4}\.\d{4,5}\)", row), name
    assert any("references.md" in text for text in cells(NOTEBOOKS / "05_side_by_side.ipynb", "markdown"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_each_lesson_opens_with_objectives_and_times_and_ends_with_a_recap(path):
    first, *_ = cells(path, "markdown")
    for part in ("**After this notebook you can:**", "**Time on 2 CPU cores:**", "**Next:**"):
        assert part in first, part
    assert "**Prerequisites:**" in first
    recap = next(text for text in cells(path, "markdown") if text.startswith("## What you saw"))
    assert 4 <= recap.count("<details>") == recap.count("</details>") <= 6
    if path.name[:2] != "00":
        assert "**Previous:**" in first
        assert any("**Predict before you run" in text for text in cells(path, "markdown"))


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: p.name)
def test_try_it_cells_do_not_run_by_default(path):
    for text in cells(path, "code"):
        if "TRY_IT" in text:
            assert re.search(r"^TRY_IT = False\b", text, re.M) and "if TRY_IT:" in text


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.name)
def test_exercises_are_unsolved_marked_and_check_every_todo(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] and c["execution_count"] is None for c in code), "store exercises unexecuted"
    assert "**Difficulty: ★" in "".join(nb["cells"][0]["source"])
    sources = ["".join(c["source"]) for c in code]
    todos = [i for i, text in enumerate(sources) if "# TODO" in text]
    assert todos
    for i in todos:
        assert i + 1 < len(sources) and re.match(r"check_\w+\(", sources[i + 1]), \
            f"the TODO cell {sources[i][:60]!r} is not followed by a check cell"
    solution = NOTEBOOKS / "solutions" / path.name
    checks = [text for text in sources if re.match(r"check_\w+\(", text)]
    assert all(text in cells(solution, "code") for text in checks), "the solution runs the same checks"


def test_every_utils_module_is_listed_with_its_concern():
    """The one module list (utils/__init__.py) names every module, in its layer."""
    import utils
    modules = sorted(p.relative_to(REPO_ROOT / "utils").with_suffix("").as_posix().replace("/", ".")
                     for p in (REPO_ROOT / "utils").glob("*/*.py") if p.stem != "__init__")
    listed = re.findall(r"^    ([a-z_]+\.[a-z_]+) ", utils.__doc__, re.MULTILINE)
    assert sorted(listed) == modules


def printed(path: Path) -> str:
    """Everything a committed notebook printed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])


def test_the_readme_and_guide_quote_the_committed_notebooks():
    """A figure quoted in README.md, the instructor guide or the glossary is the one the committed notebooks
    printed (re-execute a notebook, and this says which quote to update)."""
    xml, retrieval = printed(NOTEBOOKS / "03_behaviour_tuning_xml.ipynb"), printed(NOTEBOOKS / "04_retrieval.ipynb")
    readme, guide, glossary = (p.read_text(encoding="utf-8") for p in
                               (REPO_ROOT / "README.md", REPO_ROOT / "docs" / "instructor_guide.md", GLOSSARY))
    # The re-index against notebook 01's training: a ratio of two timings, quoted rounded ("about 24,000").
    ratio = int(re.search(r"([\d,]+)x the re-index", retrieval)[1].replace(",", ""))
    quoted = int(re.search(r"about ([\d,]+) times cheaper", readme)[1].replace(",", ""))
    assert abs(quoted - ratio) <= 0.25 * ratio, f"README says about {quoted:,}x, notebook 04 printed {ratio:,}x"
    # Few-shot validity on unseen-style notes, the adapter's split (notebook 03's cost table).
    valid = re.search(r"base model, few-shot\s+\d+\s+(\d+)%", xml)[1]
    assert f"few-shot prompt: {valid} % valid" in readme and f"few-shot prompt: {valid} % valid" in guide
    # The model's size on disk.
    mb = re.search(r"the full model (\d+) MB", xml)[1]
    for doc in (readme, guide, glossary):
        assert set(re.findall(r"\b(\d{3}) MB", doc)) == {mb}


def test_the_references_quote_notebook_04s_readers():
    """docs/references.md quotes notebook 04's committed outputs: the two readers by kind (its table "base
    reader / reader adapter") and the edited facts the reader adapter follows."""
    retrieval = printed(NOTEBOOKS / "04_retrieval.ipynb")
    table = retrieval[retrieval.index("base reader reader adapter"):]
    by_kind = {kind: (int(base), int(reader)) for kind, base, reader in
               re.findall(r"^(trained|paraphrase|reversed|documented)\s+\d+\s+(\d+)%\s+(\d+)%$", table, re.M)[:4]}
    changed = int(re.search(r"(\d+) changed facts: right before the edit", retrieval)[1])
    followed = changed - retrieval.count("  missed: ")
    assert re.search(rf"reader adapter {round(100 * followed / changed)}%", retrieval)  # the misses are all listed
    rows = {line.split(",")[0][2:]: line for line in REFERENCES.read_text(encoding="utf-8").splitlines()
            if line.startswith("| ")}
    reader = " / ".join(str(by_kind[kind][1]) for kind in ("trained", "paraphrase", "reversed", "documented"))
    raft = rows["Zhang et al. 2024"]
    assert f"{reader} %" in raft and f"{followed} of the {changed} edited facts" in raft
    assert (f"{by_kind['reversed'][0]} % for the base model with two examples, {by_kind['reversed'][1]} % for the "
            f"reader adapter (notebook 04)") in rows["Berglund et al. 2023"]


def markdown_prose(path: Path) -> str:
    """A Markdown file without its fenced code blocks (a `# comment` there is not a heading)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.mark.parametrize("path", [REPO_ROOT / "README.md", REPO_ROOT / "benchmarks" / "README.md",
                                  *sorted((REPO_ROOT / "docs").glob("*.md"))],
                         ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_relative_link_in_the_docs_resolves(path):
    """Every link to a file of the repository names one that exists, and every #anchor a heading of it."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", markdown_prose(path)):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists():
            broken.append(target)
        elif anchor and anchor not in {github_anchor(h) for h in
                                       re.findall(r"^#{1,6} (.+)$", markdown_prose(linked), re.M)}:
            broken.append(target)
    assert not broken, f"{path.name} links to what does not exist: {broken}"
