"""Ask your own documents: a folder of text files, searched with BM25, read by a reader model, and
"unknown" where no document matches the question well enough.

    docs = Documents("my_docs")                       # every .md and .txt file: one passage each
    docs.calibrate(answerable=[...], unanswerable=[...])   # the folder's threshold, from your questions
    for reply in docs.ask(reader, tokenizer, ["How many days of leave do I get?"]):
        print(reply)    # answer, the file it was read from, the search score, the reader's confidence

The pieces are those of notebook 04 (Retriever.best, choose_threshold, read_found); this module only
reads a folder and says where each answer came from. BM25 scores grow with how rare the matching
words are in the folder, so no threshold fits every folder: each is calibrated on its own questions
before it is asked anything.

The search's threshold catches a question no file is about; it cannot catch one a file is about but does
not answer (how much sick leave, asked of a leave policy that never says). The reader then answers
something from the file, mostly with low confidence: an answer below MIN_CONFIDENCE becomes "unknown".
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

from utils.core.datafiles import DataError, read_text, without_heading
from utils.tasks.rag import read_found
from utils.tasks.retrieval import Retriever, choose_threshold, tokenize
from utils.tasks.scoring import is_unknown_answer
from utils.tasks.world import UNKNOWN

SUFFIXES = (".md", ".txt")
# The reader's probability of its own answer below which Documents says "unknown": chosen on the outside
# dev documents (data/outside/), as the floor with the most right answers minus wrong ones
# (benchmarks/reader_confidence.py; figures in benchmarks/README.md).
MIN_CONFIDENCE = 0.7


def read_folder(folder: str | Path) -> dict[str, str]:
    """The .md and .txt files directly in `folder`, file name -> text; a DataError names any folder
    or file that cannot be used, and what to do about it."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        near = difflib.get_close_matches(folder.name, [p.name for p in folder.parent.glob("*") if p.is_dir()]
                                         if folder.parent.is_dir() else [], n=1)
        raise DataError(f"{folder}: no such folder (looked in {folder.resolve().parent})"
                        + (f"; did you mean {near[0]!r}?" if near else "; check the name"))
    if not folder.is_dir():
        raise DataError(f"{folder}: a file, not a folder; give the folder that holds your documents")
    files = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
    if not files:
        others = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        raise DataError(f"{folder}: no {' or '.join(SUFFIXES)} files (it holds: {', '.join(others[:8]) or 'nothing'}"
                        f"{', ...' if len(others) > 8 else ''}); save each document as plain text in it")
    documents = {}
    for path in files:
        text = read_text(path)
        if not text.strip():
            raise DataError(f"{path}: empty; write the document's text in it, or remove the file")
        if not without_heading(text):
            raise DataError(f"{path}: only a heading; write the document's text below it, or remove the file")
        documents[path.name] = text
    return documents


@dataclass(frozen=True)
class Reply:
    question: str
    answer: str  # "unknown" when the system abstains
    source: str | None  # the best-matching file (read unless Retriever.best abstained); None: no match
    score: float  # its BM25 score for the question; 0 when no word of the question is in any file
    confidence: float | None  # the reader's probability of its answer; None when it was not asked
    threshold: float
    min_confidence: float = 0.0  # the reader's answer is "unknown" below it
    reader_answer: str | None = None  # what the reader said, before the floor; None when it was not asked

    @property
    def abstained(self) -> bool:
        return is_unknown_answer(self.answer)

    def __str__(self) -> str:
        if self.source is None:
            why = "no file shares a word with the question"
        elif self.confidence is None:
            why = f"best match {self.source} scored {self.score:.2f}, below the threshold {self.threshold:.2f}"
        elif self.confidence < self.min_confidence:
            why = (f"read in {self.source}, score {self.score:.2f}, but the reader's confidence {self.confidence:.2f} "
                   f"is below {self.min_confidence:.2f}")
        else:
            why = f"read in {self.source}, score {self.score:.2f}, confidence {self.confidence:.2f}"
        return f"{self.question} -> {self.answer}   ({why})"


class Documents:
    """A folder of documents to ask questions of, with a score threshold below which it abstains.

    threshold: one that `calibrate` chose for this folder before; without it, call `calibrate`
    before asking. min_confidence: the reader's answers below it are "unknown" (0 keeps every answer)."""

    def __init__(self, folder: str | Path, threshold: float | None = None, min_confidence: float = MIN_CONFIDENCE):
        if not 0 <= min_confidence < 1:
            raise ValueError(f"min_confidence is a probability: give a number from 0 (keep every answer) up to, "
                             f"not including, 1; got {min_confidence!r}")
        self.folder = Path(folder)
        self.retriever = Retriever(read_folder(folder))
        self.threshold = threshold
        self.min_confidence = min_confidence

    def calibrate(self, answerable: list[str], unanswerable: list[str]) -> float:
        """Set the threshold from questions the documents answer and questions they do not (a few of
        each, each naming what it asks about): retrieval.choose_threshold, as notebook 04 does."""
        self.threshold = choose_threshold(self.retriever, answerable, unanswerable)
        return self.threshold

    def ask(self, model, tokenizer, questions: str | list[str], shots=()) -> list[Reply]:
        """A Reply for each question: the reader's answer from the best-matching file, or "unknown"
        where Retriever.best abstains (that file scores below the threshold, or nothing matches: the reader
        is not asked) or where the reader's confidence is below min_confidence.

        model: a reader, e.g. recipes.reader_tuned_model(base, tokenizer)[0]; or the base model with
        shots=rag.few_shot(...) examples."""
        if self.threshold is None:
            raise ValueError(f"{self.folder}: no threshold yet. BM25 scores grow with the words of a folder, so "
                             f"each folder needs its own: call docs.calibrate(answerable=[...], unanswerable=[...]) "
                             f"with a few questions your documents answer and a few they do not, then ask.")
        questions = [questions] if isinstance(questions, str) else list(questions)
        searchable = [_searchable(_checked(q)) for q in questions]
        answers = iter(read_found(model, tokenizer, [q for q, ok in zip(questions, searchable) if ok],
                                  self.retriever, self.threshold, shots, progress=False))
        replies = []
        for question, ok in zip(questions, searchable):
            if not ok:
                replies.append(Reply(question, UNKNOWN, None, 0.0, None, self.threshold))
                continue
            answer, top = next(answers), self.retriever.search(question, 1)[0]
            replies.append(floored(Reply(question, UNKNOWN, top.drug if top.score > 0 else None, top.score,
                                         answer.probability if answer else None, self.threshold,
                                         reader_answer=answer.text if answer else None), self.min_confidence))
        return replies


def floored(reply: Reply, min_confidence: float) -> Reply:
    """The reply as Documents gives it with this floor: the reader's answer, or "unknown" where the reader
    was not asked or its confidence is below min_confidence."""
    sure = reply.confidence is not None and reply.confidence >= min_confidence
    return replace(reply, answer=reply.reader_answer if sure else UNKNOWN, min_confidence=min_confidence)


def _checked(question) -> str:
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"Empty question {question!r}: ask a question with words in it.")
    return question


def _searchable(question: str) -> bool:
    """Has the question a word to search for? ("What is it?" has only stopwords: nothing can match.)"""
    return bool(tokenize([question])[0])
