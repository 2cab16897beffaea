"""utils/lessons/explorer.py: systems side by side, leaflet edits, and the widget driven through its handlers."""
import pytest

from utils.core.generation import Answer, generate
from utils.lessons.explorer import (
    Answerer,
    Explorer,
    Reply,
    ask,
    closed_book,
    combined_system,
    edit_leaflet,
    render_html,
    render_text,
    switch_documents,
    with_retrieval,
)
from utils.lessons.misleading import conflicting_pairs, wrong_leaflets
from utils.tasks.prompts import passage_text, qa_prompt
from utils.tasks.rag import abstain_below, rag_prompt
from utils.tasks.retrieval import Retriever
from utils.tasks.scoring import Result
from utils.tasks.systems import label
from utils.tasks.world import UNKNOWN, load_world

LEAFLETS = {
    "Altrevon": "# Altrevon\n\nAltrevon treats motion sickness. It is made by Oskwell Sciences.",
    "Baxiflor": "# Baxiflor\n\nBaxiflor is used to treat rosacea. Halvern Labs makes it.",
}
NOTE = "54-year-old woman, painful swollen big toe since last night."


def echo(name, accepts="question"):
    return Answerer(name, accepts, lambda text: Reply(f"{name}: {text}", 0.5))


def reads(retriever, name="reader"):
    """A retrieval system without a model: it answers with the name of the leaflet it found."""
    def answer(question):
        [top] = retriever.search(question, 1)
        return Reply(top.drug, None, passage_text(top.text), top.score, top.drug)
    return Answerer(name, "question", answer)


def broken(text):
    raise RuntimeError("adapter not loaded")


@pytest.fixture(scope="module")
def t0():
    return load_world("t0")


# ---------------------------------------------------------------- the logic

def test_ask_runs_the_systems_that_accept_the_kind_in_order():
    systems = [echo("b"), echo("xml", "note"), echo("a")]
    assert ask(systems, "Who makes X?", "question") == {"b": Reply("b: Who makes X?", 0.5),
                                                         "a": Reply("a: Who makes X?", 0.5)}
    assert list(ask(systems, NOTE, "note")) == ["xml"]


@pytest.mark.parametrize("systems, text, kind, message", [
    ([echo("a")], "  \n", "question", "Nothing to ask: type a question"),
    ([echo("a", "note")], "", "note", "Nothing to ask: type a clinical note"),
    ([echo("a")], None, "question", "Nothing to ask"),
    ([echo("a")], "Who makes X?", "questions", "Unknown kind of input 'questions'"),
    ([echo("a")], NOTE, "note", r"No chosen system answers a clinical note.*chosen: \['a'\]"),
    ([], "Who makes X?", "question", "chosen: none"),
    ([echo("a"), echo("a")], "Who makes X?", "question", "Two systems share a name"),
])
def test_ask_says_what_to_fix(systems, text, kind, message):
    with pytest.raises(ValueError, match=message):
        ask(systems, text, kind)


def test_ask_lets_an_error_inside_a_system_propagate():
    with pytest.raises(RuntimeError, match="adapter not loaded"):
        ask([echo("a"), Answerer("b", "question", broken)], "Who makes X?", "question")
    with pytest.raises(TypeError, match="'s' returned str: its answer function must return a Reply"):
        ask([Answerer("s", "question", lambda text: "gout")], "What does X treat?", "question")


def test_a_system_with_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="accepts 'notes': use one of"):
        Answerer("xml", "notes", broken)


def test_closed_book_answers_as_generate_does(tiny_model, tokenizer):
    for prompt in (qa_prompt, lambda q: f"Question: {q}\nAnswer:"):
        system = closed_book("base", tiny_model, tokenizer, prompt=prompt)
        [expected] = generate(tiny_model, tokenizer, [prompt("Who makes Altrevon?")], progress=False)
        assert system.accepts == "question"
        assert system.answer("Who makes Altrevon?") == Reply(expected.text, expected.probability)


def test_with_retrieval_reads_the_prompt_of_rag_prompt(tiny_model, tokenizer, t0):
    retriever = Retriever(t0.documents)
    shots = (("Zepamab treats gout.", "What does Zepamab treat?", "gout"),)
    system = with_retrieval("base_reader", tiny_model, tokenizer, retriever, threshold=0.0, shots=shots)
    question = "Which drug treats ringworm?"
    [expected] = generate(tiny_model, tokenizer, [rag_prompt(retriever, shots)(question)], progress=False)
    reply = system.answer(question)
    assert (reply.text, reply.confidence) == (expected.text, expected.probability)
    assert reply.drug == "Dravolin" and reply.passage == passage_text(t0.documents["Dravolin"])
    assert reply.score == retriever.search(question, 1)[0].score > 0


def test_with_retrieval_says_which_names_are_close_when_it_abstains(tiny_model, tokenizer, t0):
    system = with_retrieval("base_reader", tiny_model, tokenizer, Retriever(t0.documents), threshold=0.5)
    reply = system.answer("What does Dravilin treat?")  # one letter off: BM25 finds nothing
    assert reply.score < 0.5 and reply.confidence is None
    assert reply.text == "unknown (no leaflet mentions Dravilin; did you mean Dravelin or Dravolin?)"


def test_with_retrieval_abstains_where_abstain_below_does(tiny_model, tokenizer, t0):
    retriever = Retriever(t0.documents)
    questions = t0.questions("trained")[:3] + t0.questions("unknown")[:3]
    guesses = [Result(q, Answer("a guess", 0.5), False) for q in questions]
    abstentions = []
    for threshold in (0.5, 2.0, 1000.0):  # 1000: above every score, every reply is "unknown"
        system = with_retrieval("base_reader", tiny_model, tokenizer, retriever, threshold)
        abstained = [r.answer.text == UNKNOWN for r in abstain_below(guesses, retriever, threshold)]
        replies = [system.answer(q.text) for q in questions]
        # "unknown", with a "did you mean" where an unknown drug's name is close to a leaflet's
        assert [r.text.split(" (")[0] == UNKNOWN and r.confidence is None for r in replies] == abstained
        assert all(r.passage and r.drug in t0.documents and r.score is not None for r in replies)
        abstentions.append(sum(abstained))
    assert abstentions[0] < len(questions) == abstentions[-1]  # the model answered some, then none
    assert any(r.score > 0 for r in replies)  # the passage is shown even when abstaining


def test_an_edited_leaflet_is_found_with_its_new_text():
    retriever = Retriever(LEAFLETS)
    edited = "# Baxiflor\n\nBaxiflor is used to treat gout. Halvern Labs makes it."
    assert 0 < edit_leaflet(retriever, " Baxiflor ", edited) < 1
    assert list(retriever.documents) == list(LEAFLETS)  # replaced, not added
    top = retriever.search("gout", 1)[0]
    assert (top.drug, top.text) == ("Baxiflor", edited)
    edit_leaflet(retriever, "Dravolin", "Dravolin treats ringworm.")
    assert retriever.search("ringworm", 1)[0].drug == "Dravolin"


@pytest.mark.parametrize("drug, text, message", [
    ("", "Baxiflor treats gout.", "No drug named"),
    ("  ", "Baxiflor treats gout.", "No drug named"),
    ("Baxiflor", " \n", "The new leaflet for 'Baxiflor' is empty"),
    ("Baxiflor", "What is it?", "'Baxiflor' has no searchable words"),  # only stopwords
])
def test_a_bad_edit_says_what_to_fix_and_loses_nothing(drug, text, message):
    retriever = Retriever(LEAFLETS)
    with pytest.raises(ValueError, match=message):
        edit_leaflet(retriever, drug, text)
    assert retriever.documents == LEAFLETS
    assert retriever.search("rosacea", 1)[0].drug == "Baxiflor"


LONG = "Altrevon treats motion sickness. " * 5
REPLIES = {
    "base": Reply("Halvern  Labs", 0.123),
    "retrieval + reader": Reply("Oskwell Sciences", 0.987, LONG, 3.14159, "Altrevon"),
    "retrieval, threshold": Reply("unknown", None, LONG, 3.14159, "Altrevon"),
    "tiny model": Reply("gout", 0.001),
}


def test_render_text_shows_each_leaflet_once_and_is_stable():
    assert render_text("Who makes Altrevon?", REPLIES, width=60) == """\
asked: Who makes Altrevon?
  system                answer            confidence  read from
  base                  Halvern Labs             12%  -
  retrieval + reader    Oskwell Sciences         99%  Altrevon, BM25 3.14
  retrieval, threshold  unknown                    -  Altrevon, BM25 3.14
  tiny model            gout                     <1%  -
  Altrevon, BM25 3.14: Altrevon treats motion sickness. Altrevon treats [...]"""


def test_render_html_escapes_untrusted_text():
    evil = "<script>alert(1)</script>"
    page = render_html(evil, {evil: Reply(evil, 0.5, evil, 1.0, evil)})
    assert "<script>" not in page and page.count("&lt;script&gt;") == 6
    assert "Oskwell Sciences" in render_html("q", REPLIES) and "99%" in render_html("q", REPLIES)


# ---------------------------------------------------------------- the widget, through its handlers

def explorer(*systems, retriever=None):
    examples = {"question": ["Who makes Altrevon?", "What does Baxiflor treat?"], "note": [NOTE, "a second note"]}
    return Explorer(list(systems), retriever or Retriever(LEAFLETS), examples)


def test_a_failing_system_shows_its_error_while_the_others_answer():
    ui = explorer(echo("base"), Answerer("combined", "question", broken), echo("tuned"))
    ui.input.value = "Who makes Altrevon?"
    ui.ask_clicked()
    assert list(ui.last_replies) == ["base", "combined", "tuned"]
    assert ui.last_replies["combined"] == Reply("error: RuntimeError: adapter not loaded", None)
    assert ui.last_replies["tuned"].text == "tuned: Who makes Altrevon?"
    assert "error: RuntimeError: adapter not loaded" in ui.answers.value and "tuned: Who" in ui.answers.value
    assert ui.message == ""


def test_the_answers_are_escaped_in_the_widget():
    ui = explorer(Answerer("bad", "question", lambda text: Reply("<script>alert(1)</script>", 0.5)))
    ui.ask_clicked()
    assert "<script>" not in ui.answers.value and "&lt;script&gt;alert(1)" in ui.answers.value


def test_a_blank_input_or_no_system_ticked_is_said_in_the_status_line():
    ui = explorer(echo("base"))
    ui.ask_clicked()
    assert ui.last_replies
    ui.input.value = "   "
    ui.ask_clicked()
    assert ui.last_replies == {} and ui.answers.value == ""  # no stale answers beside the message
    assert ui.message.startswith("Nothing to ask: type a question") and "Nothing to ask" in ui.status.value
    ui.input.value = "Who makes Altrevon?"
    ui.checks["base"].value = False
    ui.ask_clicked()
    assert ui.last_replies == {} and "No chosen system answers a question" in ui.message


def test_the_toggle_switches_input_examples_and_systems():
    ui = explorer(echo("base"), echo("combined", "note"))
    assert ui.input is ui.question and ui.question.value == "Who makes Altrevon?"
    assert ui.question.options == ("Who makes Altrevon?", "What does Baxiflor treat?")
    assert ui.input_box.children == (ui.question,)
    assert [ui.checks[n].disabled for n in ("base", "combined")] == [False, True]
    ui.kind.value = "note"
    assert ui.input is ui.note and ui.note.value == NOTE
    assert ui.input_box.children == (ui.note_examples, ui.note)
    assert [ui.checks[n].disabled for n in ("base", "combined")] == [True, False]
    ui.note_examples.value = "a second note"
    assert ui.note.value == "a second note"
    ui.ask_clicked()
    assert ui.last_replies == {"combined": Reply("combined: a second note", 0.5)}


def test_the_leaflet_editor_re_indexes_and_keeps_the_old_text_on_error():
    retriever = Retriever(LEAFLETS)
    ui = explorer(reads(retriever), retriever=retriever)
    assert ui.drug.options == ("Altrevon", "Baxiflor") and ui.leaflet.value == LEAFLETS["Altrevon"]
    ui.drug.value = "Baxiflor"
    assert ui.leaflet.value == LEAFLETS["Baxiflor"]
    ui.leaflet.value = "   "
    assert ui.save_clicked() is None and "is empty" in ui.message
    assert retriever.documents == LEAFLETS
    ui.leaflet.value = "Baxiflor treats gout."
    assert ui.save_clicked() > 0 and ui.message.startswith("Saved the Baxiflor leaflet; re-indexed 2 leaflets in")
    ui.input.value = "What treats gout?"
    ui.ask_clicked()
    assert ui.last_replies["reader"].passage == "Baxiflor treats gout."


def test_demo_prints_what_the_handlers_produce():
    edit = ("Baxiflor", "Baxiflor treats gout. Altrevon is not it.")
    inputs = [("question", "Which drug treats gout?"), ("note", NOTE), ("question", "  ")]
    retriever = Retriever(LEAFLETS)
    systems = [reads(retriever), echo("base"), echo("combined", "note")]
    printed = Explorer(systems, retriever, {}).demo(inputs, edit=edit)

    retriever = Retriever(LEAFLETS)
    ui = Explorer([reads(retriever), echo("base"), echo("combined", "note")], retriever, {})
    reports = []
    for kind, text in inputs:
        ui.kind.value = kind
        ui.input.value = text
        ui.ask_clicked()
        reports.append(render_text(text, ui.last_replies) if ui.last_replies else None)
    ui.drug.value = edit[0]
    ui.leaflet.value = edit[1]
    ui.save_clicked()
    ui.kind.value, ui.input.value = "question", inputs[0][1]
    ui.ask_clicked()
    assert printed == "\n\n".join([
        reports[0], reports[1], "asked: '  '\n  Nothing to ask: type a question (or pick an example), then ask.",
        "saved the edited Baxiflor leaflet and re-indexed", render_text(inputs[0][1], ui.last_replies)])
    assert "Baxiflor" not in reports[0] and "Baxiflor treats gout." in printed  # the edit shows
    assert "ms" not in printed and "0x" not in printed  # nothing that changes from run to run


def test_demo_refuses_an_unknown_kind_or_leaflet():
    with pytest.raises(ValueError, match="No leaflet for 'Zepamab' to edit: choose one of"):
        explorer(echo("base")).demo([("question", "Who makes Altrevon?")], edit=("Zepamab", "text"))
    with pytest.raises(ValueError, match=r"Unknown kind in \['questions'\]: each input is \(kind, text\)"):
        explorer(echo("base")).demo([("questions", "Who makes Altrevon?")])


def test_the_lessons_systems_are_shown_by_their_labels(tiny_model, tokenizer):
    retriever = Retriever(LEAFLETS)
    assert closed_book("fine_tuned", tiny_model, tokenizer).name == label("fine_tuned")
    assert with_retrieval("reader", tiny_model, tokenizer, retriever, 1.0).name == label("reader")
    # The combined system is the one with the constraint; without it, the diagnosis may not parse.
    assert combined_system(None, None, tokenizer, retriever, 1.0, constraint=object()).name == label("combined")
    assert combined_system(None, None, tokenizer, retriever, 1.0).name == label("adapter_retrieval")
    with pytest.raises(KeyError, match="no system or update has the id 'retrieval'"):
        closed_book("retrieval", tiny_model, tokenizer)


# ---------------------------------------------------------------- the switches: a wrong leaflet, both versions

@pytest.fixture(scope="module")
def misleading(t0):
    """Two wrong leaflets of t0 (a maker, a dose) and the first two conflicting pairs t0 -> t1."""
    return wrong_leaflets(t0, n=2, seed=0), conflicting_pairs(t0, load_world("t1"))[:2]


def test_switch_documents_drops_other_documents_for_the_systems_that_hold_the_retriever():
    retriever = Retriever(LEAFLETS)
    system = reads(retriever)
    assert 0 < switch_documents(retriever, {"Altrevon": LEAFLETS["Altrevon"]}) < 1
    assert list(retriever.documents) == ["Altrevon"] and system.answer("rosacea").drug == "Altrevon"


def test_switch_documents_puts_wrong_leaflets_and_both_versions_in_the_index(t0, misleading):
    wrong, pairs = misleading
    retriever = Retriever(t0.documents)
    switch_documents(retriever, t0.documents, wrong)
    assert [retriever.documents[w.drug] for w in wrong] == [w.text for w in wrong]
    top = retriever.search(f"Who makes {wrong[0].drug}?", 1)[0]
    assert top.text == wrong[0].text and wrong[0].leaflet_value in top.text
    switch_documents(retriever, t0.documents, pairs=pairs)
    assert [d for d in retriever.documents if d not in t0.documents] == [k for p in pairs for k in p.versions]
    assert not set(retriever.documents) & {p.drug for p in pairs}
    assert {p.drug for p in retriever.search(pairs[0].drug, 2)} == set(pairs[0].versions)
    switch_documents(retriever, t0.documents)
    assert retriever.documents == t0.documents


def test_the_switches_are_off_and_greyed_out_without_documents_to_switch(t0, misleading):
    ui = explorer(echo("base"))
    assert not ui.wrong_switch.value and ui.wrong_switch.disabled and ui.versions_switch.disabled
    retriever = Retriever(t0.documents)
    ui = Explorer([reads(retriever)], retriever, {}, *misleading)
    assert not ui.wrong_switch.value and not ui.versions_switch.value
    assert not ui.wrong_switch.disabled and not ui.versions_switch.disabled
    assert retriever.documents == t0.documents  # off: what the explorer was given, unchanged


def test_the_switches_change_what_the_retriever_sees_and_switch_back(t0, misleading):
    wrong, pairs = misleading
    retriever = Retriever(t0.documents)
    ui = Explorer([reads(retriever)], retriever, {"question": [f"Who makes {wrong[0].drug}?"]}, wrong, pairs)
    ui.drug.value = wrong[0].drug
    ui.wrong_switch.value = True  # as a click does
    assert retriever.documents[wrong[0].drug] == wrong[0].text == ui.leaflet.value  # the editor shows it
    assert ui.message.startswith(f"Re-indexed {len(t0.documents)} documents (2 wrong leaflets) in ")
    ui.ask_clicked()
    assert ui.last_replies["reader"].passage == passage_text(wrong[0].text)
    ui.versions_switch.value = True
    assert set(ui.drug.options) == set(retriever.documents) >= {k for p in pairs for k in p.versions}
    assert "(2 wrong leaflets, both versions of 2 leaflets)" in ui.message
    assert ui.drug.value == wrong[0].drug  # the editor keeps the leaflet it showed
    ui.wrong_switch.value = ui.versions_switch.value = False
    assert retriever.documents == t0.documents and ui.drug.options == tuple(t0.documents)
    assert "(the leaflets as saved)" in ui.message


def test_a_saved_edit_is_kept_when_a_switch_changes(t0, misleading):
    wrong, pairs = misleading
    retriever = Retriever(t0.documents)
    ui = Explorer([reads(retriever)], retriever, {}, wrong, pairs)
    ui.drug.value = "Altrevon"
    ui.leaflet.value = "Altrevon treats gout."
    ui.save_clicked()
    ui.versions_switch.value = True
    old_version = next(iter(pairs[0].versions))
    ui.drug.value = old_version
    ui.leaflet.value = "An edited old version."
    ui.save_clicked()
    assert retriever.documents[old_version] == "An edited old version."
    ui.versions_switch.value = False
    assert retriever.documents == {**t0.documents, "Altrevon": "Altrevon treats gout."}
