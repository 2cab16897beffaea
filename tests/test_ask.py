"""utils/tasks/ask.py: asking a folder of your own documents, as the README shows it.

The tiny random model of conftest.py stands in for the reader: its answers are noise, but which file
is read, the scores, when it abstains and what it is asked are real.
"""
import os
import re
import subprocess
import sys

import pytest

import utils.tasks.rag as rag
from utils.core.config import DATA_DIR, REPO_ROOT
from utils.core.datafiles import DataError
from utils.tasks.ask import MIN_CONFIDENCE, Documents, floored, read_folder
from utils.tasks.retrieval import split_answerable, split_by_drug
from utils.tasks.world import UNKNOWN, load_world

HR_DOCS = {
    "leave.md": "# Annual leave\n\nEvery employee gets 28 days of annual leave a year. Up to five unused days "
                "can be carried over into the next year; the rest lapse on 31 March.\n",
    "home_office.md": "# Home office\n\nStaff who work from home at least two days a week get a one-off home "
                      "office allowance of 300 euros for a desk and a chair. Claims are approved by your line "
                      "manager.\n",
    "expenses.txt": "Travel expenses are refunded within 30 days. Submit receipts in the expenses portal; "
                    "trains in second class, hotels up to 120 euros a night.\n",
}


@pytest.fixture
def my_docs(tmp_path):
    folder = tmp_path / "my_docs"
    folder.mkdir()
    for name, text in HR_DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def asked(monkeypatch):
    """The prompts the reader is given."""
    prompts = []
    real = rag.generate
    monkeypatch.setattr(rag, "generate", lambda m, t, p, **k: prompts.extend(p) or real(m, t, p, **k))
    return prompts


# ---------------------------------------------------------------- reading a folder

def test_read_folder_reads_md_and_txt_files_by_name(my_docs):
    (my_docs / "notes.docx").write_bytes(b"PK")  # not plain text: left out
    (my_docs / ".hidden.md").write_text("# x\n\nan editor's backup")
    (my_docs / "with_bom.md").write_text("# Parking\n\nStaff park free of charge.", encoding="utf-8-sig")
    documents = read_folder(my_docs)
    assert sorted(documents) == ["expenses.txt", "home_office.md", "leave.md", "with_bom.md"]
    assert documents["leave.md"] == HR_DOCS["leave.md"]
    assert documents["with_bom.md"].startswith("# Parking")  # the byte-order mark is not text


def test_a_misspelt_folder_is_named_as_missing_with_the_closest_name(my_docs):
    with pytest.raises(DataError) as err:
        read_folder(my_docs.parent / "my_dcos")
    message = str(err.value)
    assert "my_dcos: no such folder" in message and "did you mean 'my_docs'?" in message
    with pytest.raises(DataError, match="a file, not a folder"):
        read_folder(my_docs / "leave.md")


def test_a_folder_without_text_files_says_what_it_holds(tmp_path):
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "policy.pdf").write_bytes(b"%PDF")
    with pytest.raises(DataError) as err:
        read_folder(tmp_path / "scans")
    assert "no .md or .txt files" in str(err.value) and "policy.pdf" in str(err.value)


@pytest.mark.parametrize("text, problem", [("", "empty"), ("  \n\n", "empty"),
                                           ("# Dogs in the office\n", "only a heading"),
                                           ("# Dogs in the office", "only a heading")])
def test_empty_and_heading_only_documents_are_refused_by_name(my_docs, text, problem):
    (my_docs / "dogs.md").write_text(text)
    with pytest.raises(DataError) as err:
        Documents(my_docs)
    assert str(my_docs / "dogs.md") in str(err.value) and problem in str(err.value)


def test_a_document_that_is_not_utf8_is_named(my_docs):
    (my_docs / "legacy.txt").write_bytes("Urlaub für alle".encode("latin-1"))
    with pytest.raises(DataError, match=r"legacy\.txt, byte \d+: not UTF-8 text; save it as UTF-8"):
        Documents(my_docs)


# ---------------------------------------------------------------- asking

def test_ask_reads_the_best_file_and_says_where_the_answer_comes_from(my_docs, tiny_model, tokenizer, asked):
    docs = Documents(my_docs, threshold=0.5, min_confidence=0.0)  # the tiny model is never confident
    [reply] = docs.ask(tiny_model, tokenizer, "How much is the home office allowance?")
    assert reply.source == "home_office.md" and reply.score >= 0.5
    assert 0 < reply.confidence <= 1 and reply.answer == reply.answer.strip()
    [prompt] = asked
    assert "one-off home office allowance" in prompt and "# Home office" not in prompt
    assert prompt.endswith("Q: How much is the home office allowance?\nA:")
    assert f"(read in home_office.md, score {reply.score:.2f}, confidence {reply.confidence:.2f})" in str(reply)


def test_ask_abstains_without_asking_the_reader_when_nothing_matches(my_docs, tiny_model, tokenizer, asked):
    docs = Documents(my_docs, threshold=0.0)  # even with no threshold at all
    replies = docs.ask(tiny_model, tokenizer, ["compny nurs?", "What is it?"])  # typos; only stopwords
    assert [(r.answer, r.source, r.score, r.confidence) for r in replies] == [(UNKNOWN, None, 0.0, None)] * 2
    assert all(r.abstained for r in replies) and asked == []
    assert "no file shares a word with the question" in str(replies[0])


def test_ask_abstains_below_the_threshold_and_names_the_best_match(my_docs, tiny_model, tokenizer, asked):
    docs = Documents(my_docs, threshold=1.0)
    question = "Can I bring my dog to the office?"  # only "office" matches
    score = docs.retriever.top_score(question)
    assert 0 < score < 1.0
    [reply] = docs.ask(tiny_model, tokenizer, [question])
    assert (reply.answer, reply.source, reply.confidence) == (UNKNOWN, "home_office.md", None)
    assert asked == []
    assert f"best match home_office.md scored {score:.2f}, below the threshold 1.00" in str(reply)


def test_an_answer_below_the_confidence_floor_is_unknown_and_says_why(my_docs, tiny_model, tokenizer, asked):
    question = "How much is the home office allowance?"
    [kept] = Documents(my_docs, threshold=0.5, min_confidence=0.0).ask(tiny_model, tokenizer, question)
    assert kept.answer == kept.reader_answer and not kept.abstained
    floor = kept.confidence + 1e-6  # just above the reader's confidence
    [refused] = Documents(my_docs, threshold=0.5, min_confidence=floor).ask(tiny_model, tokenizer, question)
    assert refused.abstained and refused.answer == UNKNOWN
    assert (refused.reader_answer, refused.confidence, refused.source) == (kept.reader_answer, kept.confidence,
                                                                           "home_office.md")
    assert f"but the reader's confidence {kept.confidence:.2f} is below {floor:.2f}" in str(refused)
    assert floored(refused, 0.0) == kept and floored(kept, floor) == refused  # the one rule, both ways
    assert len(asked) == 2  # the reader was asked both times: the floor is applied to its answer


def test_the_default_floor_refuses_the_tiny_models_unsure_answers(my_docs, tiny_model, tokenizer):
    assert 0 < MIN_CONFIDENCE < 1
    [reply] = Documents(my_docs, threshold=0.5).ask(tiny_model, tokenizer, "How much is the home office allowance?")
    assert reply.confidence < MIN_CONFIDENCE and reply.abstained and reply.min_confidence == MIN_CONFIDENCE


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5])
def test_a_floor_that_is_not_a_probability_is_refused(my_docs, bad):
    with pytest.raises(ValueError, match=r"min_confidence is a probability: give a number from 0"):
        Documents(my_docs, min_confidence=bad)


ANSWERABLE = ["How many days of annual leave do I get?", "Who approves a home office claim?"]
UNANSWERABLE = ["Is there a staff canteen?", "Can I bring my dog to work?"]


def test_calibrate_puts_the_threshold_between_answerable_and_unanswerable(my_docs):
    docs = Documents(my_docs)
    threshold = docs.calibrate(ANSWERABLE, UNANSWERABLE)
    assert docs.threshold == threshold
    top = docs.retriever.top_score
    assert max(map(top, UNANSWERABLE)) < threshold <= min(map(top, ANSWERABLE))


def test_a_folder_is_calibrated_before_it_is_asked(my_docs, tiny_model, tokenizer, asked):
    docs = Documents(my_docs, min_confidence=0.0)
    with pytest.raises(ValueError, match=r"my_docs: no threshold yet.*call docs\.calibrate\(answerable="):
        docs.ask(tiny_model, tokenizer, "How much is the home office allowance?")
    assert asked == []
    docs.calibrate(ANSWERABLE, UNANSWERABLE)
    [reply] = docs.ask(tiny_model, tokenizer, "How much is the home office allowance?")
    assert reply.source == "home_office.md" and not reply.abstained


def test_empty_question_is_an_error(my_docs, tiny_model, tokenizer):
    docs = Documents(my_docs, threshold=1.0)
    for bad in ("", "   ", None):
        with pytest.raises(ValueError, match="Empty question"):
            docs.ask(tiny_model, tokenizer, ["How many days of leave?", bad])


def test_calibrated_on_the_bundled_leaflets_it_abstains_as_notebook_04_does(tiny_model, tokenizer, asked):
    """The world's leaflets as a folder, calibrated on every other drug's questions as notebook 04 is:
    the other drugs' unknown ones are never read, their answerable ones always are."""
    docs = Documents(DATA_DIR / "world" / "documents" / "t0")
    t0 = load_world("t0")
    calibration, held_out = split_by_drug([q for kind in ("trained", "reversed", "documented", "unknown")
                                           for q in t0.questions(kind)])
    docs.calibrate(*split_answerable(calibration))
    answerable, unanswerable = split_answerable(held_out)
    replies = docs.ask(tiny_model, tokenizer, answerable[:6] + unanswerable)
    assert [r.confidence is None for r in replies] == [False] * 6 + [True] * len(unanswerable)
    assert len(asked) == 6


# ---------------------------------------------------------------- the README, as a user runs it

def _readme_snippet() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    [code] = [c for c in re.findall(r"```python\n(.*?)```", readme, re.S) if "from utils.tasks.ask import" in c]
    return code


def test_readme_snippet_runs_from_another_folder(my_docs, tiny_model, tokenizer, tmp_path, private_cache):
    """The README's code, saved as a script in the user's own folder and run there with the installed
    package (no path to the repository), the tiny model standing in for the default one (no network,
    no real model)."""
    code = _readme_snippet()
    assert "sys.path" not in code and "load_model()" in code
    model_folder = tmp_path / "tiny-model"
    tiny_model.save_pretrained(model_folder)
    tokenizer.save_pretrained(model_folder)
    script = my_docs.parent / "ask_my_docs.py"
    script.write_text(code.replace("load_model()", f"load_model({str(model_folder)!r})"))
    # One thread, as conftest.one_thread: on a busy machine a second one slows a tiny model down a lot.
    env = {**os.environ, "FTRAG_CACHE": str(private_cache), "PYTHONPATH": "", "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, script.name], cwd=my_docs.parent, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    allowance, nurse = run.stdout.strip().splitlines()
    assert allowance.startswith("How much is the home office allowance? -> ")
    assert "(read in home_office.md, score" in allowance and "confidence" in allowance
    assert nurse == "Is there a company nurse? -> unknown   (no file shares a word with the question)"
    assert any((private_cache / "adapters").glob("reader-*"))  # the reader adapter, trained and cached
