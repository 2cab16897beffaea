"""The one abstention rule, Retriever.best, in every system that retrieves: each abstains ("unknown",
no model asked) exactly where best() returns None, whatever the threshold.

The models are replaced by a fake generate() that always answers, so an abstention can only come
from the rule."""
import json
import re

import pytest

import utils.lessons.combined as combined
import utils.lessons.explorer as explorer
import utils.tasks.rag as rag
from utils.core.config import DATA_DIR, REPO_ROOT
from utils.core.generation import Answer
from utils.tasks.ask import Documents
from utils.tasks.evaluate import evaluate_with_retrieval
from utils.tasks.prompts import treatment_question
from utils.tasks.retrieval import Retriever, choose_threshold, split_answerable
from utils.tasks.scoring import Result
from utils.tasks.world import UNKNOWN, Question


@pytest.fixture(scope="module")
def t0(worlds):
    return worlds[0]


@pytest.fixture(scope="module")
def retriever(t0):
    return Retriever(t0.documents)


@pytest.fixture(scope="module")
def questions(t0):
    """Answerable questions, and unknown drugs: some share no word with any leaflet (every score 0),
    one shares "makes"; and a misspelt name."""
    misspelt = Question("paraphrase", "What does Dravilin treat?", "ringworm", "Dravelin", "treats")
    return t0.questions("trained")[:3] + t0.questions("reversed")[:2] + t0.questions("unknown")[:3] + [misspelt]


@pytest.fixture(scope="module")
def thresholds(t0, retriever):
    """0 (only "nothing matches" abstains), the calibrated one, one above some answerable questions'
    scores, and one above every score."""
    calibrated = choose_threshold(retriever, *split_answerable(t0.questions("trained") + t0.questions("unknown")))
    scores = sorted(retriever.top_score(q.text) for q in t0.questions("trained")[:3])
    return [0.0, calibrated, (scores[0] + scores[-1]) / 2, 1000.0]


@pytest.fixture(autouse=True)
def always_answers(monkeypatch):
    """Every model answers every prompt: a drug, or a dose when asked for one."""
    def fake_generate(model, tokenizer, prompts, **kwargs):
        return [Answer("20 mg" if "maximum daily dose" in p.rsplit("Q:", 1)[-1] else "Dravolin", 0.5)
                for p in prompts]
    for module in (rag, combined, explorer):
        monkeypatch.setattr(module, "generate", fake_generate)


def rule(retriever, texts, threshold):
    return [retriever.best(text, threshold) is None for text in texts]


def test_the_cases_include_abstaining_and_reading(retriever, questions, thresholds):
    """The questions and thresholds below exercise both outcomes, so a caller that always (or never)
    abstains fails."""
    texts = [q.text for q in questions]
    outcomes = [rule(retriever, texts, t) for t in thresholds]
    assert any(not a for a in outcomes[0]) and any(outcomes[0])  # the misspelt name, even at 0
    assert outcomes[1] == [q.kind == "unknown" or "Dravilin" in q.text for q in questions]
    assert outcomes[1] != outcomes[2] and all(outcomes[3])


def test_rag_abstain_below_and_read_found(retriever, questions, thresholds):
    texts = [q.text for q in questions]
    guesses = [Result(q, Answer("a guess", 0.5), False) for q in questions]
    for threshold in thresholds:
        expected = rule(retriever, texts, threshold)
        kept = rag.abstain_below(guesses, retriever, threshold)
        assert [r.answer.text == UNKNOWN for r in kept] == expected
        assert [a is None for a in rag.read_found(None, None, texts, retriever, threshold)] == expected


def test_the_evaluation_of_the_rag_system(retriever, questions, thresholds):
    for threshold in thresholds:
        results = evaluate_with_retrieval(None, None, questions, retriever, threshold)
        assert [r.answer.text == UNKNOWN for r in results] == rule(retriever, [q.text for q in questions], threshold)


def test_the_combined_systems_treatment_look_up(t0, retriever, thresholds):
    conditions = [d.treats for d in list(t0.drugs.values())[:4]] + ["hives", "frostbite", "a headache"]
    for threshold in thresholds:
        found = combined.find_treatments(None, None, retriever, threshold, conditions)
        assert [t is None for t in found] == rule(retriever, [treatment_question(c) for c in conditions], threshold)


def test_the_explorers_retrieval_systems(retriever, questions, thresholds):
    for threshold in thresholds:
        system = explorer.with_retrieval("reader", None, None, retriever, threshold)
        replies = [system.answer(q.text) for q in questions]
        assert [r.confidence is None and r.text.startswith(UNKNOWN) for r in replies] == \
            rule(retriever, [q.text for q in questions], threshold)


def test_ask_your_docs(retriever, questions, thresholds):
    docs = Documents(DATA_DIR / "world" / "documents" / "t0")
    for threshold in thresholds:
        docs.threshold = threshold
        replies = docs.ask(None, None, [q.text for q in questions])
        assert [r.abstained and r.confidence is None for r in replies] == \
            rule(docs.retriever, [q.text for q in questions], threshold) == \
            rule(retriever, [q.text for q in questions], threshold)  # the same leaflets, by file name


# Where a retrieval system's code lives: none of it may compare a score with a threshold itself.
CALLERS = ["utils/tasks/rag.py", "utils/tasks/evaluate.py", "utils/tasks/ask.py", "utils/lessons/combined.py",
           "utils/lessons/explorer.py", "benchmarks/reader.py", "notebooks/04_retrieval.ipynb",
           "notebooks/05_better_reader.ipynb", "notebooks/06_side_by_side.ipynb",
           "notebooks/exercises/3_where_retrieval_fails.ipynb", "notebooks/solutions/3_where_retrieval_fails.ipynb"]
COMPARED = re.compile(r"[<>]=?\s*\w*threshold\b|\bthreshold\w*\s*[<>]")


def code(path: str) -> str:
    text = (REPO_ROOT / path).read_text(encoding="utf-8")
    if path.endswith(".ipynb"):
        return "\n".join("".join(c["source"]) for c in json.loads(text)["cells"] if c["cell_type"] == "code")
    return text


@pytest.mark.parametrize("path", CALLERS)
def test_no_caller_writes_the_rule_again(path):
    assert not COMPARED.findall(code(path)), f"{path} compares with a threshold: use Retriever.best"


def test_the_rule_is_written_once():
    assert len(COMPARED.findall(code("utils/tasks/retrieval.py"))) == 1
    assert "choose_threshold" in code("benchmarks/reader.py") and "abstain_below" in code("benchmarks/reader.py")
