"""utils/lessons/exercise_checks.py: the exercises' check-your-answer cells pass a right answer, and name
what is missing in an open or wrong one (without failing on the placeholders an open TODO leaves)."""
import pytest

from utils.core.config import DATA_DIR
from utils.core.generation import Answer
from utils.core.train import History
from utils.lessons.exercise_checks import (
    NotYet,
    check_answers,
    check_before,
    check_costs,
    check_expand,
    check_fact_pairs,
    check_fix,
    check_lay_questions,
    check_leaflet,
    verdict,
)
from utils.lessons.recipes import xml_pairs
from utils.tasks.clinical import FIELDS, load_notes, to_xml
from utils.tasks.prompts import note_prompt, qa_prompt
from utils.tasks.retrieval import Retriever
from utils.tasks.scoring import score_answers, summarize
from utils.tasks.world import load_world

LEAFLET = ("# Velmastrin\n\nVelmastrin is a tablet for adults with frostbite. Arkwright Labs makes it. "
           "The maximum daily dose of Velmastrin is 300 mg.\n")
SYNONYMS = {"high blood pressure": "hypertension", "pink eye": "conjunctivitis"}


@pytest.fixture(scope="module")
def world():
    return load_world("t0")


def not_yet(call, *args, **kwargs) -> str:
    with pytest.raises(NotYet) as failed:
        call(*args, **kwargs)
    return str(failed.value)


def test_verdict_prints_success_or_lists_every_problem(capsys):
    verdict(["", None], "all good")
    assert capsys.readouterr().out == "✓ all good\n"
    message = not_yet(verdict, ["first", "", "second"], "all good")
    assert message == "first\nsecond"
    assert NotYet(message)._render_traceback_() == ["✗ Not yet:", "  - first", "  - second"]
    assert issubclass(NotYet, AssertionError)  # fails a worked solution's cell under the tests


def test_fact_pairs(capsys):
    pairs = [(qa_prompt("What does Velmastrin treat?"), "frostbite"),
             (qa_prompt("Who makes Velmastrin?"), "Arkwright Labs")]
    check_fact_pairs(pairs, History(losses=[3.0] + [1.0] * 28 + [0.01]))
    assert "30 steps" in capsys.readouterr().out
    open_todo = not_yet(check_fact_pairs, [], None)
    assert "What does Velmastrin treat?" in open_todo and "train the adapter" in open_todo
    assert "more passes" in not_yet(check_fact_pairs, pairs, History(losses=[3.0] * 7 + [0.1]))
    assert "did not fall" in not_yet(check_fact_pairs, pairs, History(losses=[1.0] * 29 + [2.0]))
    assert "(prompt, answer)" in not_yet(check_fact_pairs, ["frostbite"], History(losses=[3.0] * 29 + [0.1]))


def test_leaflet(world, capsys):
    check_leaflet(LEAFLET, Retriever({**world.documents, "Velmastrin": LEAFLET}), world)
    assert capsys.readouterr().out.startswith("✓")
    open_todo = not_yet(check_leaflet, "# Velmastrin\n\nTODO: one paragraph\n", None, world)
    assert "TODO" in open_todo and "300 mg" in open_todo and "Retriever(" in open_todo
    assert "world's leaflets" in not_yet(check_leaflet, LEAFLET, Retriever({"Velmastrin": LEAFLET}), world)


def test_answers(capsys):
    questions = {"a": "What does Velmastrin treat?", "b": "Which drug treats frostbite?"}
    check_answers(questions, tuned_answers=[Answer("x", 0.5)] * 2, rag_answers=[Answer("y", 0.5)] * 2)
    assert capsys.readouterr().out.startswith("✓ 2 answers")
    message = not_yet(check_answers, questions, tuned_answers=None, rag_answers=["y", "z"])
    assert "tuned_answers is still None" in message and "rag_answers should hold" in message


def test_before_and_fix(capsys):
    lab = load_notes(DATA_DIR / "exercises" / "lab_request_notes.jsonl")
    lab_train = [n for n in lab if n.split == "train"]
    before = {"valid": 0.25, "fields": 0.1875, "age": 0.25, "sex": 0.25, "condition": 0.25, "severity": 0.0}
    check_before(before, "severity", 8)
    assert "severity (0%)" in capsys.readouterr().out
    assert "another field scores lower" in not_yet(check_before, before, "age", 8)
    assert "one of age" in not_yet(check_before, before, "grade", 8)
    assert "still None" in not_yet(check_before, None, "severity", 8)
    assert "not a score of the 8" in not_yet(check_before, {**before, "valid": 1 / 12}, "severity", 8)

    pairs = xml_pairs(48) + [(note_prompt(n.text), to_xml(n.expected)) for n in lab_train]
    check_fix(pairs, lab_train, History(losses=[2.0, 0.5]), before, 8)
    assert "52 notes" in capsys.readouterr().out
    open_todo = not_yet(check_fix, [], lab_train, None, None, 8)
    assert "pairs is empty" in open_todo and "fixed, history" in open_todo and "after is still None" in open_todo
    assert "lacks 4 of the 4" in not_yet(check_fix, xml_pairs(48), lab_train, History(losses=[1.0, 0.5]), before, 8)
    assert "48 training notes" in not_yet(check_fix, pairs[40:], lab_train, History(losses=[1.0, 0.5]), before, 8)


def test_summary_check_accepts_what_summarize_returns(capsys):
    lab = [n for n in load_notes(DATA_DIR / "exercises" / "lab_request_notes.jsonl") if n.split == "test"]
    summary = summarize(score_answers(lab, [to_xml(n.expected) for n in lab[:5]] + ["chatter"] * (len(lab) - 5)))
    check_before(summary, min(FIELDS, key=summary.get), len(lab))
    assert capsys.readouterr().out.startswith("✓")


def test_lay_questions(world, capsys):
    good = {"Which drug treats high blood pressure?": "Delquora", "What is prescribed for pink eye?": "Pondrilax"}
    check_lay_questions(good, world, minimum=2)
    assert capsys.readouterr().out.startswith("✓ 2 questions")
    message = not_yet(check_lay_questions, {**good, "Which drug treats hypertension?": "Delquora",
                                            "What does Pondrilax treat?": "Pondrilax", "What helps?": "Aspirin"},
                      world, 6)
    assert "at least 6" in message and "'hypertension', the leaflet's own word" in message
    assert "names the drug" in message and "'Aspirin'" in message


def test_expand():
    def right(q):
        return " ".join([q, *[m for lay, m in SYNONYMS.items() if lay in q.lower()]])
    check_expand(right, SYNONYMS, ["Which drug treats high blood pressure?"])
    open_todo = not_yet(check_expand, lambda q: q, SYNONYMS, ["Which drug treats high blood pressure?"])
    assert "should add 'hypertension'" in open_todo
    assert "no term for 'Which drug treats high blood pressure?'" in open_todo
    assert "keep the question" in not_yet(check_expand, lambda q: "hypertension conjunctivitis", SYNONYMS, [])
    assert "unchanged" in not_yet(check_expand, lambda q: right(q) + " hypertension", SYNONYMS, [])


def test_costs(world, capsys):
    unseen = {"What lowers my BP?": "Delquora", "Which drug helps when I can't sleep?": "Duvastrin",
              "What is good for weak bones?": "Orvelta"}
    no_leaflet = {"What causes high blood pressure?": None, "Is pink eye contagious?": None,
                  "Can high blood pressure run in families?": None}
    check_costs(unseen, no_leaflet, SYNONYMS, world)
    assert capsys.readouterr().out.startswith("✓ 3 phrasings")
    message = not_yet(check_costs, {"What treats pink eye in kids?": "Pondrilax"},
                      {"Who makes Altrevon?": "Altrevon"}, SYNONYMS, world)
    assert "'pink eye', a term your table has" in message and "pair each with None" in message
    assert "uses no term of your table" in message and "at least 3" in message
