"""An explorer for notebook 06: ask several systems the same question (or clinical note), see
their answers side by side with the leaflet a retrieval system read and each model's confidence,
then edit a leaflet and ask again; or switch on a wrong leaflet, or both versions of a changed
leaflet (utils.lessons.misleading), and see whom the retrieval misleads.

The logic is plain functions (closed_book, with_retrieval, ask, edit_leaflet, switch_documents,
render_text, render_html); the lessons' systems are named by their ids (utils.tasks.systems) and shown
by their labels. The Explorer only wires them to widgets, and its buttons and switches call plain
methods (ask_clicked, save_clicked, switch_changed), so the tests and Explorer.demo run the same code as
a click.
"""
from __future__ import annotations

import html
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, replace

import ipywidgets as widgets

from utils.core.generation import generate
from utils.lessons.combined import diagnose
from utils.lessons.misleading import ConflictingPair, WrongLeaflet, with_both_versions, with_wrong_leaflets
from utils.tasks.prompts import passage_text, qa_prompt, reader_prompt
from utils.tasks.retrieval import did_you_mean
from utils.tasks.systems import label
from utils.tasks.world import UNKNOWN

KINDS = {"question": "question", "note": "clinical note"}  # Answerer.accepts -> what the learner sees


@dataclass(frozen=True)
class Reply:
    text: str  # the system's answer: its first line, or a line of XML
    confidence: float | None  # the probability the model gave its own answer; None if no model answered
    passage: str | None = None  # the leaflet text the answer was read from, for systems that retrieve
    score: float | None = None  # that leaflet's BM25 score
    drug: str | None = None  # whose leaflet it is


@dataclass(frozen=True)
class Answerer:
    """A system as the explorer asks it: its name (a label of utils.tasks.systems for the lessons'
    systems), what it accepts, and the function that answers."""
    name: str
    accepts: str  # "question" or "note"
    answer: Callable[[str], Reply]

    def __post_init__(self):
        if self.accepts not in KINDS:  # a typo here would make the system silently never answer
            raise ValueError(f"System {self.name!r} accepts {self.accepts!r}: use one of {list(KINDS)}.")


def closed_book(system: str, model, tokenizer, prompt=qa_prompt) -> Answerer:
    """The system with id `system` (e.g. "fine_tuned"): a model answering a question from its weights
    alone."""
    def answer(question: str) -> Reply:
        [a] = generate(model, tokenizer, [prompt(question)], progress=False)
        return Reply(a.text, a.probability)
    return Answerer(label(system), "question", answer)


def with_retrieval(system: str, model, tokenizer, retriever, threshold: float, shots=()) -> Answerer:
    """The system with id `system` (e.g. "reader"): a model reading the best leaflet before the
    question, the prompt of utils.tasks.rag.rag_prompt (k=1). Where `retriever.best` finds no
    passage it says "unknown" without asking the model, and which leaflet names are close to a word
    of the question (a misspelt name finds nothing); the best leaflet is shown either way."""
    def answer(question: str) -> Reply:
        found = retriever.best(question, threshold)
        top = found or retriever.search(question, 1)[0]
        read = dict(passage=passage_text(top.text), score=top.score, drug=top.drug)
        if found is None:
            hint = did_you_mean(question, retriever.documents)
            return Reply(f"{UNKNOWN} ({hint})" if hint else UNKNOWN, None, **read)
        [a] = generate(model, tokenizer, [reader_prompt(read["passage"], question, shots)], progress=False)
        return Reply(a.text, a.probability, **read)
    return Answerer(label(system), "question", answer)


def combined_system(xml_model, reader, tokenizer, retriever, threshold: float, constraint=None) -> Answerer:
    """Notebook 06's combined system on one note (utils.lessons.combined.diagnose, its step 1 under
    `constraint`; without one, the system "adapter + retrieval"): the diagnosis XML, and the leaflet
    its treatment was read from. No single probability: two adapters wrote parts of it."""
    def answer(note: str) -> Reply:
        [d] = diagnose(xml_model, reader, tokenizer, retriever, threshold, [note], constraint)
        if d.treatment is None:
            return Reply(d.xml, None)
        p = d.treatment.passage
        text = f"{d.xml} ({d.warning})" if d.warning else d.xml
        return Reply(text, None, passage=passage_text(p.text), score=p.score, drug=p.drug)
    return Answerer(label("adapter_retrieval" if constraint is None else "combined"), "note", answer)


def ask(systems: list[Answerer], text: str, kind: str) -> dict[str, Reply]:
    """The reply of every system that accepts `kind`, by name, in the order given.

    An error inside a system propagates, so that called from a cell it shows its traceback; the
    Explorer shows it in place of that system's reply instead (see _error_as_reply).
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of input {kind!r}: use one of {list(KINDS)}.")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"Nothing to ask: type a {KINDS[kind]} (or pick an example), then ask.")
    names = [s.name for s in systems]
    if len(set(names)) < len(names):
        raise ValueError(f"Two systems share a name in {names}: give each its own, their replies are keyed by it.")
    chosen = [s for s in systems if s.accepts == kind]
    if not chosen:
        raise ValueError(f"No chosen system answers a {KINDS[kind]}: choose (tick) one built with "
                         f"accepts={kind!r}; chosen: {names or 'none'}.")
    replies = {}
    for s in chosen:
        replies[s.name] = s.answer(text)
        if not isinstance(replies[s.name], Reply):
            raise TypeError(f"System {s.name!r} returned {type(replies[s.name]).__name__}: its answer "
                            f"function must return a Reply(text, confidence).")
    return replies


def edit_leaflet(retriever, drug: str, text: str) -> float:
    """Replace (or add) the leaflet of `drug` and re-index; returns the seconds re-indexing took.

    On an error the old leaflets stay indexed: Retriever.update keeps its index until the new one
    is built.
    """
    if not isinstance(drug, str) or not drug.strip():
        raise ValueError("No drug named: say whose leaflet this is, e.g. 'Altrevon'.")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"The new leaflet for {drug!r} is empty: write its text (the old one is still indexed).")
    return retriever.update({drug.strip(): text})


def switch_documents(retriever, documents: dict[str, str], wrong: list[WrongLeaflet] = (),
                     pairs: list[ConflictingPair] = ()) -> float:
    """Index `documents` with each wrong leaflet in place of its drug's, and each pair's drug's
    document replaced by both its dated versions (these take the place of a wrong leaflet of the same
    drug); with neither, `documents` as they are. Returns the seconds re-indexing took."""
    return retriever.replace_all(with_both_versions(with_wrong_leaflets(documents, list(wrong)), list(pairs)))


def _percent(confidence: float | None) -> str:
    """"12%"; "<1%" rather than "0%" for a model answer, and "-" for an answer of no model."""
    if confidence is None:
        return "-"
    shown = f"{confidence:.0%}"
    return "<1%" if shown == "0%" and confidence > 0 else shown


def _source(reply: Reply) -> str:
    """Which leaflet a reply was read from, e.g. "Altrevon, BM25 3.21"; "-" when none."""
    if reply.passage is None:
        return "-"
    return (reply.drug or "a passage") + ("" if reply.score is None else f", BM25 {reply.score:.2f}")


def _leaflets(replies: dict[str, Reply]) -> dict[str, str]:
    """Each leaflet read, once (several systems often read the same one): source -> passage."""
    return {_source(r): r.passage for r in replies.values() if r.passage is not None}


def render_text(text: str, replies: dict[str, Reply], width: int = 100) -> str:
    """The replies as an aligned plain-text table, each leaflet read shown once (shortened).

    Stable (no timings, no addresses), for cells that nbval compares with the committed output.
    """
    rows = [("system", "answer", "confidence", "read from")]
    rows += [(name, " ".join(r.text.split()), _percent(r.confidence), _source(r)) for name, r in replies.items()]
    w = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"asked: {textwrap.shorten(text, width)}"]
    lines += [f"  {s:<{w[0]}}  {a:<{w[1]}}  {c:>{w[2]}}  {src}" for s, a, c, src in rows]
    lines += [f"  {source}: {textwrap.shorten(p, width)}" for source, p in _leaflets(replies).items()]
    return "\n".join(line.rstrip() for line in lines)


def render_html(text: str, replies: dict[str, Reply]) -> str:
    """The replies as an HTML table. Everything is escaped: model output and edited leaflets are
    untrusted text, and a `<script>` in them must show as text, not run."""
    e = html.escape
    cell = "<td style='padding:2px 12px 2px 0; text-align:{}'>{}</td>"
    rows = "".join("<tr>" + cell.format("left", e(name)) + cell.format("left", e(r.text))
                   + cell.format("right", _percent(r.confidence)) + cell.format("left", e(_source(r)))
                   + "</tr>" for name, r in replies.items())
    head = "".join(f"<th style='text-align:left'>{h}</th>" for h in ("system", "answer", "confidence", "read from"))
    leaflets = "".join(f"<p><b>{e(s)}</b>: {e(p)}</p>" for s, p in _leaflets(replies).items())
    return (f"<p>asked: <i>{e(textwrap.shorten(text, 200))}</i></p>"
            f"<table><tr>{head}</tr>{rows}</table>{leaflets}")


def _error_as_reply(answer: Callable[[str], Reply]) -> Callable[[str], Reply]:
    """In the widget an exception becomes that system's reply: one failing system must not hide
    the others' answers, and a button's traceback goes to a log the learner never sees."""
    def safe(text: str) -> Reply:
        try:
            return answer(text)
        except Exception as error:  # any failure: shown, not raised
            return Reply(f"error: {type(error).__name__}: {error}", None)
    return safe


class Explorer:
    """Pick a kind of input, type or pick one, tick the systems, ask; edit a leaflet, save, ask again.

    `wrong` (utils.lessons.misleading.wrong_leaflets) and `pairs` (conflicting_pairs) feed the switches
    "add a wrong leaflet" and "keep both versions"; without them the switches are greyed out. A switch
    re-indexes the documents the explorer started with, plus the leaflets saved since (an edit of a
    document only a switch adds lasts until the next switch).

    Show it with `display(explorer.widget)`; where widgets do not render, print `explorer.demo(...)`.
    """

    def __init__(self, systems: list[Answerer], retriever, examples: dict[str, list[str]],
                 wrong: list[WrongLeaflet] = (), pairs: list[ConflictingPair] = ()):
        if set(examples) - set(KINDS):
            raise ValueError(f"examples has kinds {sorted(set(examples) - set(KINDS))}: use {list(KINDS)}.")
        self.systems = [replace(s, answer=_error_as_reply(s.answer)) for s in systems]
        self.retriever = retriever
        self.base = dict(retriever.documents)  # what the switches start from: the leaflets, as saved
        self.wrong, self.pairs = list(wrong), list(pairs)
        self.last_replies: dict[str, Reply] = {}
        self.message = ""  # the status line, as plain text

        questions, notes = examples.get("question", []), examples.get("note", [])
        self.kind = widgets.ToggleButtons(options=[(label, kind) for kind, label in KINDS.items()])
        self.question = widgets.Combobox(options=questions, value=questions[0] if questions else "",
                                         placeholder="type a question, e.g. Who makes Altrevon?",
                                         layout=widgets.Layout(width="60%"))
        self.note_examples = widgets.Dropdown(  # a Textarea cannot offer examples itself
            options=[(f"{i}. {textwrap.shorten(n, 70)}", n) for i, n in enumerate(notes, 1)],
            description="example", layout=widgets.Layout(width="80%"))
        self.note = widgets.Textarea(value=notes[0] if notes else "", placeholder="type a clinical note",
                                     layout=widgets.Layout(width="80%", height="6em"))
        self.input_box = widgets.VBox()
        self.checks = {s.name: widgets.Checkbox(value=True, description=s.name, indent=False)
                       for s in systems}
        self.ask_button = widgets.Button(description="Ask", button_style="primary")
        self.status = widgets.HTML()
        self.answers = widgets.HTML()
        self.drug = widgets.Dropdown(options=list(retriever.documents), description="leaflet")
        self.leaflet = widgets.Textarea(layout=widgets.Layout(width="80%", height="8em"))
        self.save_button = widgets.Button(description="Save and re-index")
        self.wrong_switch = widgets.Checkbox(value=False, description="add a wrong leaflet", indent=False,
                                             disabled=not self.wrong)
        self.versions_switch = widgets.Checkbox(value=False, description="keep both versions", indent=False,
                                                disabled=not self.pairs)

        self.kind.observe(lambda _: self._kind_changed(), names="value")
        self.note_examples.observe(lambda change: setattr(self.note, "value", change.new or ""), names="value")
        self.drug.observe(lambda _: self._drug_chosen(), names="value")
        self.ask_button.on_click(lambda _: self.ask_clicked())
        self.save_button.on_click(lambda _: self.save_clicked())
        for switch in (self.wrong_switch, self.versions_switch):
            switch.observe(lambda _: self.switch_changed(), names="value")
        self._kind_changed()
        self._drug_chosen()
        self.widget = widgets.VBox([
            self.kind, self.input_box, widgets.HBox(list(self.checks.values())), self.ask_button,
            self.status, self.answers, widgets.HBox([self.wrong_switch, self.versions_switch]),
            widgets.HTML("<b>Edit a leaflet</b>"), self.drug, self.leaflet,
            self.save_button])

    @property
    def input(self) -> widgets.Combobox | widgets.Textarea:
        """The input box of the chosen kind."""
        return self.question if self.kind.value == "question" else self.note

    def _kind_changed(self) -> None:
        kind = self.kind.value
        self.input_box.children = [self.question] if kind == "question" else [self.note_examples, self.note]
        for s in self.systems:  # a system that cannot answer this kind is shown, but greyed out
            self.checks[s.name].disabled = s.accepts != kind

    def _drug_chosen(self) -> None:
        self.leaflet.value = self.retriever.documents[self.drug.value]

    def _say(self, message: str, error: bool = False) -> None:
        self.message = message
        self.status.value = f"<span style='color:{'#b00020' if error else 'inherit'}'>{html.escape(message)}</span>"

    def ask_clicked(self) -> None:
        """The Ask button: every ticked system that accepts this kind of input answers it."""
        chosen = [s for s in self.systems if self.checks[s.name].value]
        text = self.input.value
        self._say("answering ...")
        try:
            self.last_replies = ask(chosen, text, self.kind.value)
        except (ValueError, TypeError) as error:  # nothing to ask, no system ticked, a bad Answerer
            self.last_replies, self.answers.value = {}, ""
            self._say(str(error), error=True)
            return
        self.answers.value = render_html(text, self.last_replies)
        self._say("")

    def save_clicked(self) -> float | None:
        """The Save button: the edited leaflet replaces the old one in the index. Returns the
        seconds re-indexing took; None when nothing was saved (the status line says why)."""
        try:
            seconds = edit_leaflet(self.retriever, self.drug.value, self.leaflet.value)
        except ValueError as error:
            self._say(str(error), error=True)
            return None
        if self.drug.value in self.base:
            self.base[self.drug.value] = self.leaflet.value
        self._say(f"Saved the {self.drug.value} leaflet; re-indexed {len(self.retriever.documents)} "
                  f"leaflets in {seconds * 1000:.1f} ms. Ask again to see what changed.")
        return seconds

    def switch_changed(self) -> float | None:
        """A switch: index the leaflets with the wrong ones and both versions of the changed ones as
        switched. Returns the seconds re-indexing took; None when it failed (the status line says why)."""
        wrong = self.wrong if self.wrong_switch.value else []
        pairs = self.pairs if self.versions_switch.value else []
        try:
            seconds = switch_documents(self.retriever, self.base, wrong, pairs)
        except ValueError as error:
            self._say(str(error), error=True)
            return None
        chosen = self.drug.value
        self.drug.options = list(self.retriever.documents)  # both versions add documents; this resets the choice
        self.drug.value = chosen if chosen in self.retriever.documents else self.drug.options[0]
        self._drug_chosen()  # the editor shows what is indexed now, e.g. the wrong leaflet
        switched = []
        if wrong:
            switched.append(f"{len(wrong)} wrong leaflets")
        if pairs:
            switched.append(f"both versions of {len(pairs)} leaflets")
        self._say(f"Re-indexed {len(self.retriever.documents)} documents "
                  f"({', '.join(switched) or 'the leaflets as saved'}) in {seconds * 1000:.1f} ms. "
                  f"Ask again to see what changed.")
        return seconds

    def _demo_ask(self, kind: str, text: str) -> str:
        self.kind.value = kind
        self.input.value = text
        self.ask_clicked()
        return render_text(text, self.last_replies) if self.last_replies else f"asked: {text!r}\n  {self.message}"

    def demo(self, inputs: list[tuple[str, str]], edit: tuple[str, str] | None = None) -> str:
        """Click through the explorer without a screen, for print() where widgets do not render
        (nbval, a static viewer): ask each (kind, text); with `edit` = (drug, new text), save that
        leaflet (it stays edited, as after a click) and ask the first question again."""
        if any(kind not in KINDS for kind, _ in inputs):
            raise ValueError(f"Unknown kind in {[k for k, _ in inputs]}: each input is (kind, text), "
                             f"kind one of {list(KINDS)}.")
        reports = [self._demo_ask(kind, text) for kind, text in inputs]
        if edit:
            drug, text = edit
            if drug not in self.retriever.documents:
                raise ValueError(f"No leaflet for {drug!r} to edit: choose one of {list(self.retriever.documents)}.")
            self.drug.value = drug  # loads the old text into the editor, as choosing it does
            self.leaflet.value = text
            saved = self.save_clicked() is not None
            reports.append(f"saved the edited {drug} leaflet and re-indexed" if saved else self.message)
            question = next((t for k, t in inputs if k == "question"), None)
            if saved and question is not None:
                reports.append(self._demo_ask("question", question))
        return "\n\n".join(reports)
