"""utils/lessons/comparison.py: the five-row table, filled from the notebooks' saved results, and the
summary figure."""
import dataclasses
import re

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.colors import to_hex

from conftest import SERIES as RESULTS
from utils.core.config import QUICK_PER_GROUP, REPO_ROOT
from utils.core.plots import use_style
from utils.lessons.comparison import (
    DIMENSIONS,
    KIND_NAMES,
    SUMMARY_FIGURE,
    VERDICT_WORDS,
    WRITE_FIGURES,
    Asked,
    Cell,
    comparison_rows,
    headline,
    questions_asked,
    rows_html,
    summary_figure,
)
from utils.tasks.results import Latency
from utils.tasks.systems import SYSTEMS, label

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def test_every_verdict_is_read_at_a_glance_with_one_number():
    for dimension, *cells in comparison_rows(RESULTS):
        for cell in cells:
            assert len(cell.verdict.split()) <= VERDICT_WORDS, f"{dimension}: {cell.verdict!r} is too long"
            assert len(NUMBER.findall(cell.verdict)) == 1, f"{dimension}: {cell.verdict!r} needs exactly one number"
            assert len(cell.details.split()) > len(cell.verdict.split()), f"{dimension}: no details under the verdict"


def test_the_accuracy_row_links_to_the_score_that_punishes_wrong_answers():
    linked = {dimension: [c.more for c in cells if c.more] for dimension, *cells in comparison_rows(RESULTS)}
    [(text, target)] = linked.pop("accuracy for facts")
    assert not any(linked.values()) and "bonus notebook 08" in text
    path, section = target.split("#")
    lesson = REPO_ROOT / "notebooks" / path  # the table is shown in notebooks/06_side_by_side.ipynb
    assert section.startswith("4--a-score") and "## 4 · A score" in lesson.read_text(encoding="utf-8")


def test_every_dimension_is_filled_with_the_measured_numbers():
    rows = comparison_rows(RESULTS)
    assert [r[0] for r in rows] == list(DIMENSIONS)
    verdicts = {d: (ft.verdict, rag.verdict) for d, ft, rag in rows}
    table = {d: (ft.details, rag.details) for d, ft, rag in rows}
    assert verdicts["primary use case"] == ("Behaviour: the XML adapter wrote valid XML for 97% of unseen-style notes.",
                                            "Facts: search finds the right leaflet for 98% of questions (worst kind).")
    assert "erased 75% of the unchanged facts" in verdicts["knowledge updates"][0]  # SERIES kept 25 %
    assert "2.6 ms" in verdicts["knowledge updates"][1] and "644 ms an answer" in verdicts["cost structure"][1]
    assert "at least 96% right on every question kind" in verdicts["accuracy for facts"][1]  # its worst kind
    assert "97% from a LoRA adapter" in table["primary use case"][0]
    assert "3 worked examples" in table["primary use case"][0]
    assert "right leaflet (98% of questions" in table["primary use case"][1]  # the worst kind
    assert "100% of changed facts" in table["knowledge updates"][0] and "2.6 ms" in table["knowledge updates"][1]
    assert "41 CPU-minutes" in table["cost structure"][0] and "73 ms" in table["cost structure"][1]
    assert "reversed 0%" in table["accuracy for facts"][0] and "reversed 100%" in table["accuracy for facts"][1]
    # both readers of the same leaflets: the reader adapter, and the base model with two examples
    assert "every third question: retrieval + reader adapter trained phrasing 98%" in table["accuracy for facts"][1]
    assert "retrieval + base reader (the base model with 2 worked examples): trained phrasing 100%, paraphrase 94%" \
        in table["accuracy for facts"][1]
    assert "invents an answer 100%" in table["accuracy for facts"][0]
    assert "(held-out, mean over kinds) 90% and 50%;" in table["accuracy for facts"][1]
    assert "(held-out, mean over kinds) 40%;" in table["accuracy for facts"][0]
    # notebook 03's grammar, beside the adapter on the same notes
    assert "made 100% of the base model's answers valid but only 38% of their fields right (the adapter: 94%" \
        in table["primary use case"][0]
    assert headline(RESULTS).control_kept == 0.25


def test_the_cost_row_puts_the_latency_gap_on_the_prompt():
    """Both systems write about as many tokens (notebook 05): what retrieval pays for is the longer prompt."""
    _, closed_book, retrieval = next(row for row in comparison_rows(RESULTS) if row[0] == "cost structure")
    assert "(100 tokens instead of 20), and an answer took 644 ms against 940 ms closed book: both write about " \
           "as many tokens (notebook 05 prints them), so the prompt's length makes the difference" in retrieval.details
    assert "stops after a few words" not in retrieval.details
    assert "Prompts stay short (20 tokens)" in closed_book.details


def test_the_headline_reads_each_notebooks_own_figures():
    h = headline(dataclasses.replace(RESULTS, drift=dataclasses.replace(RESULTS.drift, retrain_seconds=45.0)))
    assert h.retrain_seconds == 45.0 and h.update_seconds == 22.7
    assert h.retrieval_base == {k: RESULTS.retrieval.base_two_shots[k] for k in KIND_NAMES}
    assert h.retrieval_base_abstains == RESULTS.retrieval.base_two_shots["unknown"]
    assert h.xml_zero_shot == 0.0 and h.xml_few_shot == 0.8125 and h.recall == 0.975
    assert h.latency_rag == Latency(644, 100) and h.year_retrain_minutes == 2484.5 / 60


def test_html_shows_each_verdict_and_folds_its_details_under_it():
    html = rows_html([("knowledge updates", Cell("Retrain: 75% erased.", "An update kept 25%."),
                       Cell("Edit: 2.6 ms.", "Re-indexing took 2.6 ms."))])
    assert "<td style='text-align:left; vertical-align:top; padding:4px 10px'>Retrain: 75% erased.<details>" \
           "<summary>details</summary>An update kept 25%.</details></td>" in html
    assert html.count("<details>") == html.count("</details>") == 2


def test_a_cell_may_link_where_its_details_lead():
    html = rows_html([("accuracy", Cell("Right: 1.", "Counts right only.", ("a fairer score", "bonus/08_x.ipynb#4--s")),
                       Cell("Right: 2.", "Counts right only."))])
    assert "Counts right only. <a href='bonus/08_x.ipynb#4--s'>a fairer score</a></details>" in html
    assert html.count("<a href") == 1


def test_html_escapes_every_cell():
    html = rows_html([("a <b>", Cell("x & y", "<script>"), Cell("<i>", "'q'"))])
    assert "<script>" not in html and "&lt;script&gt;" in html and "x &amp; y" in html and "&lt;i&gt;" in html


# ---------------------------------------------------------------- the summary figure

FORMATS = {"base": 0.0, "base_retrieval_shots": 0.7, "xml_adapter": 0.98}
ASKED = Asked(every_question={"trained": 80, "paraphrase": 80, "reversed": 40, "documented": 40, "unknown": 40},
              every_third={"trained": 27, "paraphrase": 27, "reversed": 14, "documented": 14, "unknown": 7,
                           "real_drug": 7, "unstated": 14},
              heldout_wordings=80, unchanged_facts=65)


def test_the_questions_asked_are_the_samples_the_notebooks_counted(worlds):
    """What notebooks 01, 02 and 04 printed for the bundled world: 01 asked every question of each kind,
    04 every third (110 questions in all: 7 about unknown drugs, 7 about real drugs not in the formulary,
    14 about attributes no leaflet states) and 80 held-out wordings, and 02's update left 65 facts
    unchanged."""
    asked = questions_asked(*worlds)
    assert asked == ASKED and sum(asked.every_third.values()) == 110


def test_a_quick_run_counts_the_few_questions_it_asks(worlds, monkeypatch):
    monkeypatch.setenv("FTRAG_QUICK", "1")
    asked = questions_asked(*worlds)
    assert set(asked.every_question.values()) == set(asked.every_third.values()) == {QUICK_PER_GROUP}
    assert asked.unchanged_facts == QUICK_PER_GROUP and asked.heldout_wordings < ASKED.heldout_wordings


@pytest.fixture
def drawing():
    matplotlib.use("Agg")  # no screen: draw into memory
    use_style()
    yield
    plt.close("all")


def test_the_summary_figure_has_three_titled_panels(drawing, monkeypatch):
    monkeypatch.delenv(WRITE_FIGURES, raising=False)
    fig = summary_figure(headline(RESULTS), FORMATS, notes=41, asked=ASKED)
    facts, update, xml = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["Facts: right answers by question kind",
                                                   "Updates: one change of facts", "Format: valid XML"]
    assert all(ax.get_ylabel() for ax in fig.axes) and xml.get_ylabel() == "valid XML (% of 41 notes)"
    assert [t.get_text() for t in facts.get_legend().get_texts()] == [
        "fine-tuned, closed book", "retrieval + base reader", "retrieval + reader adapter"]
    assert [t.get_text() for t in update.texts] == ["90 s", "23 s", "2.6 ms"]
    # The incremental update is marked with what it erased (SERIES: it kept 25 % of unchanged facts).
    assert "(erased\n75% of the\n65 unchanged\nfacts)" in update.get_xticklabels()[1].get_text()
    # Every bar says which questions it counts: the samples of notebooks 01 and 04-05 differ, and say so.
    assert [t.get_text() for t in facts.get_xticklabels()] == [
        "trained\nphrasing\n01: n = 80\n04-05: n = 27", "paraphrase\n01: n = 80\n04-05: n = 27",
        "reversed\n01: n = 40\n04-05: n = 14", "only in the\nleaflets\n01: n = 40\n04-05: n = 14",
        "held-out\nwordings (mean)\n04-05, all three:\nn = 80", "unknown drug\n(abstains)\n01: n = 40\n04-05: n = 7"]
    xlabel = facts.get_xlabel()
    assert "notebook 01 (every question)" in xlabel and "notebooks 04-05 (every third)" in xlabel
    assert xml.get_xlabel() == "the same 41 held-out notes, each system"
    assert [t.get_text().replace("\n", " ") for t in xml.get_xticklabels()] == [label(s) for s in FORMATS]
    assert [t.get_text() for t in xml.texts] == ["0", "70", "98"]
    # Each system in its own colour, the same in both panels that show it.
    assert [to_hex(p.get_facecolor()) for p in xml.patches] == [SYSTEMS[s].colour.lower() for s in FORMATS]
    reader_bars = [p for p in facts.patches if to_hex(p.get_facecolor()) == SYSTEMS["reader"].colour.lower()]
    assert len(reader_bars) == len(facts.get_xticklabels())


def test_the_readme_figure_is_written_only_when_a_maintainer_asks(drawing, tmp_path, monkeypatch):
    """Notebook 05 draws the figure in every run; only FTRAG_WRITE_FIGURES=1 (benchmarks/notebooks.py
    --write) rewrites the README's copy, so a test or a learner's run leaves the tree as it was."""
    assert SUMMARY_FIGURE == REPO_ROOT / "docs" / "figures" / "summary.png" and SUMMARY_FIGURE.is_file()
    tracked = SUMMARY_FIGURE.read_bytes(), SUMMARY_FIGURE.stat().st_mtime_ns
    path = tmp_path / "summary.png"
    for setting in (None, "", "0"):
        if setting is None:
            monkeypatch.delenv(WRITE_FIGURES, raising=False)
        else:
            monkeypatch.setenv(WRITE_FIGURES, setting)
        summary_figure(headline(RESULTS), FORMATS, notes=41, asked=ASKED)  # the README's own path
        summary_figure(headline(RESULTS), FORMATS, notes=41, asked=ASKED, path=path)
        assert (SUMMARY_FIGURE.read_bytes(), SUMMARY_FIGURE.stat().st_mtime_ns) == tracked
        assert not path.exists()
    monkeypatch.setenv(WRITE_FIGURES, "1")
    summary_figure(headline(RESULTS), FORMATS, notes=41, asked=ASKED, path=path)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_a_relabelled_system_is_shown_by_its_new_label_and_read_by_its_id(monkeypatch):
    monkeypatch.setitem(SYSTEMS, "reader", dataclasses.replace(SYSTEMS["reader"], label="RAG with a tuned reader"))
    rows = dict((d, rag) for d, _, rag in comparison_rows(RESULTS))
    assert "every third question: RAG with a tuned reader trained phrasing 98%" in rows["accuracy for facts"].details
    assert rows["accuracy for facts"].verdict.startswith("RAG with a tuned reader: ")
    assert all("retrieval + reader adapter" not in text
               for text in (rows["accuracy for facts"].verdict, rows["accuracy for facts"].details))
