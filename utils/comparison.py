"""The comparison table of notebook 05: fine-tuning vs retrieval on five dimensions, each cell
filled with what notebooks 01-04 measured (their saved results, utils/results.py).
"""
from __future__ import annotations

import html

DIMENSIONS = ("primary use case", "knowledge updates", "cost structure", "accuracy for facts",
              "ideal application")
APPROACHES = ("fine-tuning", "retrieval")
# Question kinds as a learner reads them.
KIND_NAMES = {"trained": "trained phrasing", "paraphrase": "paraphrase", "reversed": "reversed",
              "documented": "only in the leaflets"}


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _need(results: dict, *path: str):
    """results[a][b]..., or a KeyError that says which saved result is missing and how to rebuild it."""
    value = results
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise KeyError(f"saved results lack {' / '.join(path)}: delete results/{path[0]}.json "
                           f"in the cache and run notebook 05 again to rebuild it")
        value = value[key]
    return value


def headline(results: dict) -> dict:
    """The figures the table and the checkpoint use, from results = {name: saved results}."""
    def need(*path):
        return _need(results, *path)

    tuned, reader = need("01_fact_tuning", "fine-tuned"), need("04_retrieval", "reader adapter")
    xml = "03_xml_tuning"
    return {
        "tuned": {k: tuned[k] for k in KIND_NAMES}, "retrieval": {k: reader[k] for k in KIND_NAMES},
        "tuned abstains": tuned["unknown"], "retrieval abstains": reader["unknown"],
        "control kept": 1 - need("01_fact_tuning", "control answers lost"),
        "training seconds": need("01_fact_tuning", "training seconds"),
        "stale": need("02_drift", "approaches", "no update (t0-tuned)", "stale"),
        "update kept": need("02_drift", "approaches", "incremental update", "kept"),
        "update seconds": need("02_drift", "update seconds", "incremental update"),
        "retrain seconds": need("02_drift", "update seconds", "full retrain"),
        "year retrain minutes": need("02_drift", "cost timeline", "full retrain")[-1] / 60,
        "xml zero-shot": need(xml, "learning curve", "0", "unseen_style", "valid"),
        "xml few-shot": need(xml, "few-shot (16 notes)", "valid"),
        "xml adapter": need(xml, "final, unseen styles", "valid"),
        "xml fields": need(xml, "final, unseen styles", "fields"),
        "xml training seconds": need(xml, "training seconds"),
        "year edits seconds": need("04_retrieval", "document edits, a year (s)"),
        "reindex ms": need("04_retrieval", "re-index seconds") * 1000,
        "fresh after edit": need("04_retrieval", "reader adapter, changed facts after the edit"),
        "latency": {name: tuple(v) for name, v in need("04_retrieval", "latency").items()},
        "recall": min(need("04_retrieval", "recall@1").values()),
    }


def comparison_rows(results: dict) -> list[tuple[str, str, str]]:
    """(dimension, fine-tuning, retrieval), each cell a sentence with the measured numbers."""
    h = headline(results)
    closed_ms, closed_tokens = h["latency"]["closed book"]
    rag_ms, rag_tokens = h["latency"]["retrieval + reader adapter"]
    kinds = lambda acc: ", ".join(f"{name} {_pct(acc[k])}" for k, name in KIND_NAMES.items())  # noqa: E731
    return [
        ("primary use case",
         f"Behaviour: answers in our XML schema went from {_pct(h['xml zero-shot'])} valid (instruction "
         f"only) and {_pct(h['xml few-shot'])} (worked examples in the prompt) to {_pct(h['xml adapter'])} "
         f"with a LoRA adapter trained on 48 notes, {_pct(h['xml fields'])} of fields right.",
         f"Facts: a search finds the right leaflet ({_pct(h['recall'])} of questions, every kind), and "
         f"the frozen model answers from it."),
        ("knowledge updates",
         f"Retrain: after the world changed, the tuned model gave the old answer to {_pct(h['stale'])} of "
         f"changed facts. An incremental update ({h['update seconds']:.0f} s) kept only "
         f"{_pct(h['update kept'])} of the unchanged facts; a full retrain took {h['retrain seconds']:.0f} s.",
         f"Edit a document: re-indexing took {h['reindex ms']:.1f} ms, and {_pct(h['fresh after edit'])} "
         f"of the changed facts were answered right at once."),
        ("cost structure",
         f"Up front, and again at every update: {h['training seconds']:.0f} s to learn 80 facts; "
         f"a year of monthly full retrains is {h['year retrain minutes']:.0f} CPU-minutes. Prompts stay "
         f"short ({closed_tokens:.0f} tokens).",
         f"Per query: the passage makes every prompt longer ({rag_tokens:.0f} tokens instead of "
         f"{closed_tokens:.0f}); an answer still took {rag_ms:.0f} ms against {closed_ms:.0f} ms closed "
         f"book, because the reader stops after a few words. A year of updates costs "
         f"{h['year edits seconds'] * 1000:.0f} ms of re-indexing."),
        ("accuracy for facts",
         f"{kinds(h['tuned'])}; unknown drugs: it invents an answer {_pct(1 - h['tuned abstains'])} of "
         f"the time, and {_pct(1 - h['control kept'])} of general-knowledge answers were lost.",
         f"{kinds(h['retrieval'])}; unknown drugs: it says it does not know {_pct(h['retrieval abstains'])} "
         f"of the time."),
        ("ideal application",
         "A fixed output format, a style or a task the model cannot learn from a prompt: here the "
         "diagnosis XML, and the reader's habit of answering from the passage.",
         "Facts that change, must be exact, or must be traced to a source: a formulary, product "
         "documentation, policies."),
    ]


def rows_html(rows: list[tuple[str, str, str]]) -> str:
    """The table as HTML for a notebook (every cell escaped)."""
    style = "text-align:left; vertical-align:top; padding:4px 10px"
    head = "".join(f"<th style='{style}'>{html.escape(h)}</th>" for h in ("", *APPROACHES))
    body = "".join("<tr>" + f"<th style='{style}'>{html.escape(d)}</th>"
                   + "".join(f"<td style='{style}'>{html.escape(c)}</td>" for c in cells) + "</tr>"
                   for d, *cells in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
