"""The learner's scaffolding around the notebooks, checked without running them: glossary links that
resolve, papers with their references, each lesson's opening and recap, exercises that check themselves,
and optional try-it cells that do not run by default."""
import json
import re
from pathlib import Path

import pytest

from utils.core.config import REPO_ROOT
from utils.core.notebook_runner import BONUS, NOTEBOOKS
from utils.core.notebook_runner import LESSONS as SERIES

LESSONS = SERIES + BONUS  # every lesson, the bonus ones too
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
    linked = {a for path in SERIES for text in cells(path, "markdown") for a in GLOSSARY_LINK.findall(text)}
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
    assert any("references.md" in text for text in cells(NOTEBOOKS / "06_side_by_side.ipynb", "markdown"))


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
    """Everything a committed notebook printed, and the Markdown it displayed."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "".join("".join(o.get("text", "") or o.get("data", {}).get("text/markdown", ""))
                   for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"])


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


def what_we_measured() -> dict[str, str]:
    """docs/references.md's last column ("what we measured") by paper, e.g. "Berglund et al. 2023"."""
    return {line.split(",")[0][2:]: line.rstrip(" |").rsplit(" | ", 1)[1]
            for line in REFERENCES.read_text(encoding="utf-8").splitlines()[1:] if line.startswith("| ")}


def test_what_we_measured_is_each_rows_last_column():
    berglund = what_we_measured()["Berglund et al. 2023"]
    assert berglund.startswith("After fine-tuning on") and "Uriah Hawthorne" not in berglund


# Every figure docs/references.md quotes is checked against the committed outputs of the notebook it names:
# re-execute a notebook, and these say which quote to update.

def test_the_references_quote_notebook_00s_base_model():
    base = printed(NOTEBOOKS / "00_setup_and_model.ipynb")
    kinds = re.findall(r"^(?:trained|paraphrase|reversed|documented)\s+(\d+)%$", base, re.M)
    assert len(kinds) == 4 and len(set(kinds)) == 1, f"the base model's fictional facts: {kinds}"
    assert f"the base model alone {kinds[0]} % on the fictional facts (notebooks 00 and 06)" in \
        what_we_measured()["Ovadia et al. 2023"]


def test_the_references_quote_notebook_01s_fine_tuning():
    tuning, rows = printed(NOTEBOOKS / "01_facts_by_fine_tuning.ipynb"), what_we_measured()
    reversed_ = re.search(r"^reversed\s+(\d+)%$", tuning, re.M)[1]
    assert f"reversed questions: {reversed_} % (notebook 01)" in rows["Berglund et al. 2023"]
    drugs, questions = re.search(r"^drugs: ([^;]+); (\d+) held-out paraphrase questions$", tuning, re.M).groups()
    phrasings = re.findall(r"^\s+(\d+)\s+\d+\s+\d+\s+([\d,]+)\s+\d+%\s+(\d+)%\s+(\d+)%$", tuning, re.M)
    assert len(phrasings) == 2 and phrasings[0][0] == "0", phrasings  # none, then some extra phrasings
    (_, tokens_0, paraphrase_0, reversed_0), (extra, tokens_n, paraphrase_n, reversed_n) = phrasings
    assert reversed_0 == reversed_n
    assert (f"{len(drugs.split(', '))} drugs, {questions} held-out paraphrase questions, {paraphrase_0} % right "
            f"with no extra phrasing, {paraphrase_n} % with {extra} extra phrasings a fact, at {tokens_0} and "
            f"{tokens_n} training tokens; reversed questions {reversed_0} % either way (notebook 01)"
            ) in rows["Allen-Zhu & Li 2023"]
    facts = re.search(r"^facts trained\s+(\d+)$", tuning, re.M)[1]
    right, lost, share = re.search(r"control questions the base model got right: (\d+); "
                                   r"wrong after fact-tuning: (\d+) \((\d+)%\)", tuning).groups()
    assert (f"Fine-tuning on {facts} facts that are all new to the model: of the {right} control questions the base "
            f"model answered right, {lost} ({share} %) were wrong afterwards") in rows["Gekhman et al. 2024"]
    assert "(notebook 01)" in rows["Gekhman et al. 2024"]


def test_the_references_quote_notebook_03s_xml_adapter():
    xml, rows = printed(NOTEBOOKS / "03_behaviour_tuning_xml.ipynb"), what_we_measured()
    # The learning curve: notes, steps, tokens, seen styles' valid and fields, unseen styles' valid and fields.
    curve = {int(notes): (valid, fields) for notes, valid, fields in
             re.findall(r"^\s+(\d+)\s+\d+\s+[\d,-]+\s+\d+%\s+\d+%\s+(\d+)%\s+(\d+)%$", xml, re.M)}
    assert sorted(curve) == [0, 4, 8, 48], curve
    facts_off, facts_on = re.search(r"^fictional facts \(\d+\)\s+(\d+)%\s+(\d+)%$", xml, re.M).groups()
    control_off = re.search(r"^real-world control \(\d+\)\s+(\d+)%", xml, re.M)[1]
    assert (f"schema-valid for {curve[4][0]} % of unseen-style notes after 4 notes, {curve[8][0]} % after 8; getting "
            f"the fields right took all 48 notes ({curve[8][1]} % after 8, {curve[48][1]} % after 48). It learned no "
            f"fact of the formulary ({facts_on} %) (notebook 03)") in rows["Zhou et al. 2023"]
    assert facts_off == facts_on
    assert control_off == "100"  # "all intact"
    assert "left them all intact when switched off (notebook 03)" in rows["Gekhman et al. 2024"]


def test_the_references_quote_notebook_04s_base_reader():
    retrieval = printed(NOTEBOOKS / "04_retrieval.ipynb")
    table = retrieval[retrieval.index("kind           n fine-tuned  retrieval"):]
    reversed_ = re.search(r"^reversed\s+\d+\s+\d+%\s+(\d+)%$", table, re.M)[1]
    assert f"{reversed_} % for the base model with two examples (notebook 04)" in \
        what_we_measured()["Berglund et al. 2023"]


def test_the_references_quote_notebook_05s_reader_adapter():
    """The reader adapter by kind (its table "base reader / reader adapter") and the edited facts it follows."""
    reader = printed(NOTEBOOKS / "05_better_reader.ipynb")
    table = reader[reader.index("base reader reader adapter"):]
    by_kind = {kind: int(right) for kind, right in
               re.findall(r"^(trained|paraphrase|reversed|documented)\s+\d+\s+\d+%\s+(\d+)%$", table, re.M)[:4]}
    retrieval = printed(NOTEBOOKS / "04_retrieval.ipynb")  # where the facts are edited
    changed = int(re.search(r"(\d+) changed facts: right before the edit", retrieval)[1])
    followed = changed - reader.count("  missed: ")
    assert re.search(rf"reader adapter {round(100 * followed / changed)}%", reader)  # the misses are all listed
    rows = what_we_measured()
    kinds = " / ".join(str(by_kind[kind]) for kind in ("trained", "paraphrase", "reversed", "documented"))
    assert (f"it scores {kinds} % (trained / paraphrase / reversed / leaflet-only questions) and follows "
            f"{followed} of the {changed} edited facts (notebook 05)") in rows["Zhang et al. 2024"]
    assert f"{by_kind['reversed']} % for the reader adapter (notebook 05)" in rows["Berglund et al. 2023"]


def test_the_references_quote_notebook_06s_means_over_the_kinds():
    means = re.search(r"mean over the 4 question kinds: fine-tuned (\d\.\d\d), retrieval \+ base reader (\d\.\d\d), "
                      r"retrieval \+ reader adapter (\d\.\d\d)", printed(NOTEBOOKS / "06_side_by_side.ipynb")).groups()
    quoted = ("mean accuracy over the four kinds {} fine-tuned, {} with retrieval read by the base model with two "
              "worked examples, {} with retrieval read by the reader adapter").format(*means)
    assert quoted in what_we_measured()["Ovadia et al. 2023"]


def markdown_prose(path: Path) -> str:
    """A Markdown file without its fenced code blocks (a `# comment` there is not a heading)."""
    return re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)


def headings(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, or of a notebook's markdown cells' headings."""
    text = "\n".join(cells(path, "markdown")) if path.suffix == ".ipynb" else markdown_prose(path)
    return {github_anchor(h) for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


def broken_links(text: str, folder: Path) -> list[str]:
    """The relative links of `text` (read from `folder`) to a file that does not exist, or to an #anchor
    that is no heading of it."""
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, anchor = target.partition("#")
        linked = (folder / file).resolve()
        if file and not linked.exists():
            broken.append(target)
        elif file and anchor and anchor not in headings(linked):
            broken.append(target)
    return broken


@pytest.mark.parametrize("path", [REPO_ROOT / "README.md", REPO_ROOT / "benchmarks" / "README.md",
                                  *sorted((REPO_ROOT / "docs").glob("*.md"))],
                         ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_relative_link_in_the_docs_resolves(path):
    """Every link to a file of the repository names one that exists, and every #anchor a heading of it."""
    text = markdown_prose(path)
    own = [a for a in re.findall(r"\]\(#([^)\s]+)\)", text) if a not in headings(path)]
    broken = broken_links(text, path.parent) + [f"#{a}" for a in own]
    assert not broken, f"{path.name} links to what does not exist: {broken}"


@pytest.mark.parametrize("path", LESSONS + EXERCISES + SOLUTIONS, ids=lambda p: p.relative_to(NOTEBOOKS).as_posix())
def test_every_relative_link_in_the_notebooks_resolves(path):
    """A notebook's links to other notebooks, docs (with their #anchors) and drawings all lead somewhere."""
    broken = broken_links("\n".join(cells(path, "markdown")), path.parent)
    assert not broken, f"{path.name} links to what does not exist: {broken}"
