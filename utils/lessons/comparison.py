"""Notebook 06's comparison: the table of fine-tuning vs retrieval on five dimensions, each cell
filled with what notebooks 01-05 measured (their saved results, utils/tasks/results.py), and the
summary figure that the README shows.
"""
from __future__ import annotations

import html
import os
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt

from utils.core.config import REPO_ROOT, quick_sample
from utils.core.plots import accuracy_bars
from utils.lessons.wordings import heldout_questions
from utils.tasks.prompts import FEW_SHOT_NOTES
from utils.tasks.rag import readers_questions
from utils.tasks.results import Latency, SeriesResults
from utils.tasks.systems import SYSTEMS, colours, label, labelled
from utils.tasks.world import World, changed_facts

DIMENSIONS = ("primary use case", "knowledge updates", "cost structure", "accuracy for facts",
              "ideal application")
APPROACHES = ("fine-tuning", "retrieval")
# Question kinds as a learner reads them.
KIND_NAMES = {"trained": "trained phrasing", "paraphrase": "paraphrase", "reversed": "reversed",
              "documented": "only in the leaflets"}
# A verdict is read at a glance: at most this many words, and one number.
VERDICT_WORDS = 12


def _pct(x: float) -> str:
    return f"{x:.0%}"


@dataclass(frozen=True)
class Headline:
    """The figures the table, the summary figure and the checkpoint use."""
    tuned: dict[str, float]  # fine-tuned, right by question kind (KIND_NAMES)
    retrieval: dict[str, float]  # the reader adapter with retrieval and the threshold
    retrieval_base: dict[str, float]  # the base model with two worked examples reading the same leaflets
    heldout: dict[str, float]  # the held-out wordings, mean over their kinds: system id -> right
    tuned_abstains: float  # on unknown drugs
    retrieval_abstains: float
    retrieval_base_abstains: float
    control_kept: float  # general-knowledge answers the fine-tuned model still gets right
    training_seconds: float
    stale: float  # changed facts the t0-tuned model answers with the old value
    update_kept: float  # unchanged facts an incremental update keeps
    update_seconds: float
    retrain_seconds: float
    year_retrain_minutes: float
    xml_zero_shot: float  # valid XML on unseen-style notes: the base model with the instruction
    xml_few_shot: float  # every third held-out note (trained and unseen styles): ... with worked examples
    xml_adapter: float  # unseen-style notes: the adapter trained on 48 notes
    xml_fields: float
    xml_grammar: dict[str, float]  # every third held-out note: the base model (instruction) under the constraint
    xml_adapter_same_notes: dict[str, float]  # ... the adapter alone, on the same notes
    year_edits_seconds: float
    reindex_ms: float
    fresh_after_edit: float
    latency_closed_book: Latency
    latency_rag: Latency
    recall: float  # the worst question kind's recall@1


def headline(results: SeriesResults) -> Headline:
    """The headline figures of notebooks 01-05's saved results."""
    tuned, drift, xml = results.fact_tuning, results.drift, results.xml_tuning
    rag, reader = results.retrieval, results.reader
    return Headline(
        tuned={k: tuned.fine_tuned[k] for k in KIND_NAMES}, retrieval={k: reader.reader[k] for k in KIND_NAMES},
        retrieval_base={k: rag.base_two_shots[k] for k in KIND_NAMES},
        heldout={system: sum(acc.values()) / len(acc) for system, acc in reader.heldout_wordings.items()},
        tuned_abstains=tuned.fine_tuned["unknown"], retrieval_abstains=reader.reader["unknown"],
        retrieval_base_abstains=rag.base_two_shots["unknown"],
        control_kept=1 - tuned.control_lost, training_seconds=tuned.training_seconds,
        stale=drift.no_update.stale, update_kept=drift.incremental_update.kept,
        update_seconds=drift.update_seconds, retrain_seconds=drift.retrain_seconds,
        year_retrain_minutes=drift.retrain_year_seconds[-1] / 60,
        xml_zero_shot=xml.learning_curve[0]["unseen_style"]["valid"], xml_few_shot=xml.few_shot["valid"],
        xml_adapter=xml.final_unseen_styles["valid"], xml_fields=xml.final_unseen_styles["fields"],
        xml_grammar=xml.constrained["base_constrained"], xml_adapter_same_notes=xml.constrained["xml_adapter"],
        year_edits_seconds=rag.edits_year_seconds, reindex_ms=rag.reindex_seconds * 1000,
        fresh_after_edit=reader.reader_changed_after_edit, latency_closed_book=reader.latency_closed_book,
        latency_rag=reader.latency_reader, recall=min(rag.recall_at_1.values()))


@dataclass(frozen=True)
class Cell:
    """One cell of the table: a verdict read at a glance (VERDICT_WORDS at most, one number) and the
    measurements behind it, folded under it."""
    verdict: str
    details: str
    # (text, a lesson's path from notebooks/, #section included): where the details lead, linked after them
    more: tuple[str, str] | None = None


def comparison_rows(results: SeriesResults) -> list[tuple[str, Cell, Cell]]:
    """(dimension, fine-tuning, retrieval), each cell a verdict and its details, with the measured numbers."""
    h = headline(results)
    closed_ms, closed_tokens = h.latency_closed_book.ms, h.latency_closed_book.prompt_tokens
    rag_ms, rag_tokens = h.latency_rag.ms, h.latency_rag.prompt_tokens
    kinds = lambda acc: ", ".join(f"{name} {_pct(acc[k])}" for k, name in KIND_NAMES.items())  # noqa: E731
    return [
        ("primary use case",
         Cell(f"Behaviour: the XML adapter wrote valid XML for {_pct(h.xml_adapter)} of unseen-style notes.",
              f"Answers in our XML schema were {_pct(h.xml_zero_shot)} valid from an instruction and "
              f"{_pct(h.xml_few_shot)} with {FEW_SHOT_NOTES} worked examples in every prompt (held-out notes), "
              f"{_pct(h.xml_adapter)} from a LoRA adapter trained on 48 notes (notes in unseen styles, "
              f"{_pct(h.xml_fields)} of fields right). A grammar alone (constrained decoding, no training) made "
              f"{_pct(h.xml_grammar['valid'])} of the base model's answers valid but only "
              f"{_pct(h.xml_grammar['fields'])} of their fields right (the adapter: "
              f"{_pct(h.xml_adapter_same_notes['fields'])} on the same notes): tuning teaches the mapping from "
              f"input to values, not just the syntax."),
         Cell(f"Facts: search finds the right leaflet for {_pct(h.recall)} of questions (worst kind).",
              f"A search finds the right leaflet ({_pct(h.recall)} of questions, every kind), and "
              f"a reader answers from it: the reader adapter (behaviour tuning on invented drugs: read and copy; "
              f"the facts still come only from the leaflets) or the base reader (the base model with two "
              f"worked examples).")),
        ("knowledge updates",
         Cell(f"Retrain: an incremental update erased {_pct(1 - h.update_kept)} of the unchanged facts.",
              f"After the world changed, the tuned model gave the old answer to {_pct(h.stale)} of "
              f"changed facts. An incremental update ({h.update_seconds:.0f} s) kept only "
              f"{_pct(h.update_kept)} of the unchanged facts; a full retrain took {h.retrain_seconds:.0f} s."),
         Cell(f"Edit a leaflet: re-indexing took {h.reindex_ms:.1f} ms, no training.",
              f"Re-indexing took {h.reindex_ms:.1f} ms, and {_pct(h.fresh_after_edit)} "
              f"of the changed facts were answered right at once by the reader adapter.")),
        ("cost structure",
         Cell(f"Up front: {h.training_seconds:.0f} s of training, again at every update.",
              f"{h.training_seconds:.0f} s to learn 80 facts; a year of monthly full retrains is "
              f"{h.year_retrain_minutes:.0f} CPU-minutes. Prompts stay short ({closed_tokens:.0f} tokens)."),
         Cell(f"Per query: the leaflet lengthens every prompt; {rag_ms:.0f} ms an answer.",
              f"The passage makes every prompt longer ({rag_tokens:.0f} tokens instead of {closed_tokens:.0f}), "
              f"and an answer took {rag_ms:.0f} ms against {closed_ms:.0f} ms closed book: both write about as "
              f"many tokens (notebook 05 prints them), so the prompt's length makes the difference. A year of "
              f"updates costs {h.year_edits_seconds * 1000:.0f} ms of re-indexing.")),
        ("accuracy for facts",
         Cell(f"Trained phrasings only: {_pct(h.tuned['reversed'])} of reversed questions right.",
              f"Notebook 01, every question: {kinds(h.tuned)}; on question wordings written before any tuning "
              f"(held-out, mean over kinds) {_pct(h.heldout['fine_tuned'])}; unknown drugs: it invents an answer "
              f"{_pct(1 - h.tuned_abstains)} of the time, and {_pct(1 - h.control_kept)} of general-knowledge "
              f"answers were lost."),
         Cell(f"{label('reader')}: at least {_pct(min(h.retrieval.values()))} right on every question kind.",
              f"Notebooks 04-05, every third question: {label('reader')} {kinds(h.retrieval)}; {label('base_reader')} "
              f"(the base model with 2 worked examples): {kinds(h.retrieval_base)}; on question wordings written "
              f"before any tuning (held-out, mean over kinds) {_pct(h.heldout['reader'])} and "
              f"{_pct(h.heldout['base_reader'])}; unknown drugs: it says it does not know "
              f"{_pct(h.retrieval_abstains)} of the time (score threshold). These count right answers only.",
              ("A score where a wrong answer costs more than \"unknown\": bonus notebook 08.",
               "bonus/08_retrieval_that_misleads.ipynb#4--a-score-that-punishes-confident-errors"))),
        ("ideal application",
         Cell(f"Behaviour a prompt cannot teach: XML values, {_pct(h.xml_adapter_same_notes['fields'])} "
              f"of fields right.",
              "A task the model cannot learn from a prompt: here reading messy notes into the diagnosis XML's "
              "values, and the reader's habit of answering from the passage. If any schema-valid output will "
              "do, a grammar is enough without training; if the values must be right, tune, and add the "
              "grammar where every answer must parse."),
         Cell(f"Facts that change or need a source: {_pct(h.retrieval_abstains)} abstention on unknown drugs.",
              "Facts that change, must be exact, or must be traced to a source: a formulary, product "
              "documentation, policies. Every answer can be traced to the leaflet it was read from, and a "
              "question whose best leaflet scores below the threshold gets \"unknown\".")),
    ]


def rows_html(rows: list[tuple[str, Cell, Cell]]) -> str:
    """The table as HTML for a notebook (every cell escaped): each verdict, with its details folded
    under it in a <details> element, which JupyterLab, VS Code and GitHub render from stored outputs."""
    style = "text-align:left; vertical-align:top; padding:4px 10px"
    head = "".join(f"<th style='{style}'>{html.escape(h)}</th>" for h in ("", *APPROACHES))

    def cell(c: Cell) -> str:
        more = f" <a href='{html.escape(c.more[1])}'>{html.escape(c.more[0])}</a>" if c.more else ""
        return (f"<td style='{style}'>{html.escape(c.verdict)}<details><summary>details</summary>"
                f"{html.escape(c.details)}{more}</details></td>")

    body = "".join("<tr>" + f"<th style='{style}'>{html.escape(d)}</th>" + "".join(cell(c) for c in cells) + "</tr>"
                   for d, *cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------- the summary figure

# The README's figure: drawn from notebook 06's own run, written only when a maintainer asks.
SUMMARY_FIGURE = REPO_ROOT / "docs" / "figures" / "summary.png"
WRITE_FIGURES = "FTRAG_WRITE_FIGURES"  # =1: write the README's figures (benchmarks/notebooks.py --write sets it)


@dataclass(frozen=True)
class Asked:
    """How many questions each bar of the summary's facts panel counts; the samples differ. Notebook 01
    asked the fine-tuned model every question; notebooks 04 and 05 asked the readers every third question of
    each kind (unknown drugs: every third of those its threshold was not chosen on), and all three
    systems the held-out wordings of every third drug. A quick run asks a few of each kind."""
    every_question: dict[str, int]  # kind -> questions, notebook 01: KIND_NAMES and "unknown"
    every_third: dict[str, int]  # ... notebooks 04 and 05 (rag.readers_questions)
    heldout_wordings: int  # notebooks 04 and 05, the same questions for all three systems
    unchanged_facts: int  # notebook 02: the facts the incremental update was not shown


def questions_asked(t0: World, t1: World) -> Asked:
    """The samples notebooks 01, 02, 04 and 05 asked, counted as their evaluations count them."""
    def counted(questions) -> dict[str, int]:
        return dict(Counter(q.kind for q in quick_sample(questions, lambda q: q.kind)))

    every_question = [q for kind in (*KIND_NAMES, "unknown") for q in t0.questions(kind)]
    _, _, every_third = readers_questions(t0)
    return Asked(every_question=counted(every_question), every_third=counted(every_third),
                 heldout_wordings=sum(counted(heldout_questions(t0, every=3)).values()),
                 unchanged_facts=sum(counted(changed_facts(t0, t1)["unchanged"]).values()))


def summary_figure(h: Headline, formats: dict[str, float], notes: int, asked: Asked, path: Path = SUMMARY_FIGURE):
    """Notebook 06's summary in three panels: facts by question kind (`headline`), each kind's tick
    saying how many questions its bars count (`asked`: notebooks 01 and 04-05 asked different samples);
    the cost of one update (the incremental update marked with the unchanged facts it erased); and
    valid XML by system, `formats` (system id -> share), measured on the same `notes` notes.

    Also written to `path`, the README's figure, when FTRAG_WRITE_FIGURES=1: only a maintainer's
    run rewrites a file in the repository, never a learner's or a test's."""
    fig, (facts, update, xml) = plt.subplots(1, 3, figsize=(14, 4.6), width_ratios=[2.6, 1.2, 1])
    readers = {"fine_tuned": (h.tuned, h.tuned_abstains), "base_reader": (h.retrieval_base, h.retrieval_base_abstains),
               "reader": (h.retrieval, h.retrieval_abstains)}
    # the world's kinds, the held-out wordings' mean, the unknown drugs
    by_kind = {system: {**acc, "held-out": h.heldout[system], "unknown": abstains}
               for system, (acc, abstains) in readers.items()}
    accuracy_bars(labelled(by_kind), "Facts: right answers by question kind", ax=facts, colors=colours())
    facts.set_xlabel("questions: the fine-tuned model's from notebook 01 (every question), both readers' from "
                     "notebooks 04-05 (every third)", fontsize=8)
    names = {**KIND_NAMES, "unknown": "unknown drug (abstains)"}
    ticks = [f"{textwrap.fill(names[k], 12)}\n01: n = {asked.every_question[k]}\n04-05: n = {asked.every_third[k]}"
             for k in (*KIND_NAMES, "unknown")]
    ticks.insert(len(KIND_NAMES), f"held-out\nwordings (mean)\n04-05, all three:\nn = {asked.heldout_wordings}")
    facts.set_xticks(range(len(ticks)), ticks, fontsize=8)
    seconds = {"full_retrain": h.retrain_seconds, "incremental_update": h.update_seconds,
               "edit_documents": h.reindex_ms / 1000}
    bars = update.bar(range(3), list(seconds.values()), color=[colours()[label(k)] for k in seconds])
    update.bar_label(bars, labels=[f"{v:.0f} s" if v >= 1 else f"{v * 1000:.1f} ms" for v in seconds.values()],
                     fontsize=8, padding=1)
    # An update that is cheap because it erased what it was not shown is no option: say so on the bar.
    erased = f"incremental\nupdate (erased\n{1 - h.update_kept:.0%} of the\n{asked.unchanged_facts} unchanged\nfacts)"
    update.set_xticks(range(3), ["full\nretrain", erased, "edit\ndocuments"], fontsize=8)
    update.get_xticklabels()[1].set_color("#b2182b")
    update.set(yscale="log", ylim=(1e-4, 1e3), ylabel="seconds (log)", title="Updates: one change of facts")
    bars = xml.bar(range(len(formats)), [v * 100 for v in formats.values()],
                   color=[SYSTEMS[system].colour for system in formats])
    xml.bar_label(bars, fmt="%.0f", fontsize=8, padding=1)
    xml.set_xticks(range(len(formats)), [textwrap.fill(label(system), 14) for system in formats], fontsize=8)
    xml.set(ylim=(0, 110), ylabel=f"valid XML (% of {notes} notes)", title="Format: valid XML")
    xml.set_xlabel(f"the same {notes} held-out notes, each system", fontsize=8)
    fig.tight_layout()
    if os.environ.get(WRITE_FIGURES, "").strip() not in ("", "0"):
        fig.savefig(path, dpi=100)
    return fig
