"""A small retriever: BM25 over the world's leaflets, with the bm25s package doing the work, and the
one abstention rule (`Retriever.best`) and its one calibration (`choose_threshold`).

One passage per leaflet: a leaflet is one paragraph of about 55 words (~80 model tokens) about one
drug, so splitting it would only separate a fact from the drug name it belongs to.

Editing a document and re-indexing is the whole "update" of a retrieval system; `update` times it,
to compare with the minute a fine-tuned model needs to learn the same change.

BM25 scores have no fixed scale (a word weighs more the fewer documents contain it), so a threshold
belongs to one corpus: each is calibrated on its own questions, never typed in.
"""
from __future__ import annotations

import difflib
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from utils.core.datafiles import without_heading
from utils.tasks.world import UNCALIBRATED_KINDS

# Stopwords: bm25s's longer English list ("en_plus"; its short list keeps "what", "which", "who"),
# plus the words with which questions *ask* about a drug and that some leaflet templates contain:
# kept, they rank "The drug ... treats" above the leaflet that names the condition asked about.
# No stemming: names and conditions, the words that pick a leaflet, appear in questions exactly as
# in leaflets.
DOMAIN_STOPWORDS = ["drug", "drugs", "medicine", "medicines", "treat", "treats", "treated",
                    "treatment", "used", "prescribe", "prescribed"]
STOPWORDS = sorted(set(STOPWORDS_EN_PLUS) | set(DOMAIN_STOPWORDS))


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased words of two or more letters or digits, stopwords dropped."""
    return bm25s.tokenize(texts, stopwords=STOPWORDS, return_ids=False, show_progress=False)


@dataclass(frozen=True)
class Passage:
    drug: str  # whose leaflet this is
    text: str
    score: float  # BM25 score: 0 when no query word is in the leaflet; no upper bound


class Retriever:
    """BM25 over a dict drug name -> leaflet text (e.g. `load_world("t0").documents`)."""

    def __init__(self, documents: Mapping[str, str]):
        self.index_seconds = self.replace_all(documents)

    def update(self, documents: Mapping[str, str]) -> float:
        """Replace (or add) the given leaflets and rebuild the index; returns the seconds it took.

        The whole index is rebuilt: BM25 weighs each word by how many leaflets contain it, so one
        edited leaflet changes every score, and rebuilding 40 leaflets takes milliseconds.
        """
        return self.replace_all({**self.documents, **documents})

    def replace_all(self, documents: Mapping[str, str]) -> float:
        """Index exactly these leaflets, dropping all others; returns the seconds it took. On an error
        the old leaflets stay indexed: nothing is swapped before the new index is built."""
        if not documents:
            raise ValueError("No documents to index: pass a dict of drug name -> leaflet text with "
                             "at least one leaflet, e.g. load_world('t0').documents.")
        started = time.perf_counter()
        tokens = tokenize(list(documents.values()))
        for name, words in zip(documents, tokens):
            if not words:
                raise ValueError(f"The document for {name!r} has no searchable words (it is empty "
                                 f"or only stopwords); give it the leaflet text or leave it out.")
            if not without_heading(documents[name]):
                raise ValueError(f"The document for {name!r} has only a heading: a reader would get an "
                                 f"empty passage; write its text below the heading or leave it out.")
        index = bm25s.BM25()
        index.index(tokens, show_progress=False)
        seconds = time.perf_counter() - started
        self.documents, self._names, self._index = dict(documents), list(documents), index
        return seconds

    def scores(self, query: str) -> np.ndarray:
        """The BM25 score of every document for `query`, in the order of `self.documents`."""
        if not isinstance(query, str) or not query.strip():
            raise ValueError(f"Empty query {query!r}: ask a question with words in it, "
                             f"e.g. 'What does Altrevon treat?'.")
        words = tokenize([query])[0]
        if not words:
            raise ValueError(f"The query {query!r} has only stopwords ('what', 'is', 'the'...); "
                             f"name what you are looking for, e.g. a drug or a condition.")
        known = self._index.get_tokens_ids(words)
        if not known:  # no word of the query is in any leaflet: nothing matches
            return np.zeros(len(self._names), dtype=np.float32)
        return self._index.get_scores(known)

    def search(self, query: str, k: int = 3) -> list[Passage]:
        """The k best-matching leaflets, best first; ties keep the documents' order."""
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number of passages >= 1, got {k!r}")
        scores = self.scores(query)
        best = np.argsort(-scores, kind="stable")[:k]
        return [Passage(self._names[i], self.documents[self._names[i]], float(scores[i])) for i in best]

    def top_score(self, query: str) -> float:
        """The best passage's score for `query`: what a threshold is compared with."""
        return self.search(query, 1)[0].score

    def best(self, question: str, threshold: float) -> Passage | None:
        """The passage a system reads to answer `question`, or None: then it abstains ("unknown")
        without asking a model. None when the best passage scores below `threshold` or 0 (no word
        of the question is in any document: the "best" one is then just the first).

        The one abstention rule: the RAG path, the combined system, the explorer, ask-your-docs and
        benchmarks/reader.py all abstain exactly where this returns None."""
        top = self.search(question, 1)[0]
        return top if top.score >= threshold and top.score > 0 else None


def near_names(question: str, names: Iterable[str], cutoff: float = 0.8) -> dict[str, list[str]]:
    """Words of the question that are no name in `names` but close to one (a misspelling, e.g.
    "Dravilin"): word -> the close names, closest first, by difflib's similarity ratio (cutoff 0.8: one
    wrong letter in a name of eight is 0.875; "Dravilin" is as close to Dravelin as to Dravolin). BM25
    matches words exactly, so such a question finds nothing and the system abstains; this says which
    leaflet the learner may have meant. Words shorter than 5 letters are not looked at: too many short
    words are close to something."""
    by_lower = {n.lower(): n for n in names}
    near = {}
    for word in re.findall(r"[A-Za-z][A-Za-z-]{4,}", question):
        if word.lower() in by_lower:
            continue
        matches = difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=cutoff)
        if matches:
            near[word] = [by_lower[m] for m in matches]
    return near


def did_you_mean(question: str, names: Iterable[str]) -> str:
    """What to say instead of a bare "unknown" when a name in the question is misspelt, e.g. "no
    leaflet mentions Dravilin; did you mean Dravelin or Dravolin?"; "" when no word is close to a name."""
    return "; ".join(f"no leaflet mentions {word}; did you mean {' or '.join(sorted(close))}?"
                     for word, close in near_names(question, names).items())


def gold_leaflet(question) -> str:
    """The leaflet that holds a question's answer: its drug's, or for a reversed question ("Which drug
    treats X?") the answer's."""
    return question.answer if question.kind == "reversed" else question.drug


def recall_at(retriever: Retriever, questions: list, k: int) -> float:
    """The fraction of questions whose answer's leaflet is among the k best passages."""
    return sum(gold_leaflet(q) in [p.drug for p in retriever.search(q.text, k)] for q in questions) / len(questions)


def split_by_drug(questions: list) -> tuple[list, list]:
    """(calibration, held_out): the questions about every other drug (in order of first appearance),
    and the rest, in their order. A threshold chosen on the first half is scored on the second, about
    drugs it never saw; a reversed question belongs to the drug that answers it."""
    drugs = list(dict.fromkeys(q.drug for q in questions))
    calibration = set(drugs[::2])
    return [q for q in questions if q.drug in calibration], [q for q in questions if q.drug not in calibration]


def split_answerable(questions: list) -> tuple[list[str], list[str]]:
    """(answerable, unanswerable): the texts of the questions a leaflet answers, and of those about a
    drug that does not exist (kind "unknown"), in their order: what choose_threshold separates.

    The other kinds answered "unknown" (world.UNCALIBRATED_KINDS) are refused, not counted as answerable:
    they are kept out of the threshold's calibration, which stays the one notebook 04 chose."""
    if kept_out := sorted({q.kind for q in questions} & set(UNCALIBRATED_KINDS)):
        raise ValueError(f"questions of kind {', '.join(map(repr, kept_out))} are kept out of the threshold's "
                         f"calibration (they are unanswerable, but reported apart); leave them out of the "
                         f"questions you calibrate on")
    return ([q.text for q in questions if q.kind != "unknown"],
            [q.text for q in questions if q.kind == "unknown"])


def choose_threshold(retriever: Retriever, answerable: Iterable[str], unanswerable: Iterable[str]) -> float:
    """The one calibration of `Retriever.best`: the threshold on the best passage's score that
    misclassifies the fewest of these questions (an answerable one must score at least it, an
    unanswerable one below it), in the middle of its gap so that new questions have a margin.

    answerable: questions the documents answer; unanswerable: questions they do not (a few of each
    will do). Scores grow with the corpus: calibrate on the documents the threshold will serve."""
    known = [retriever.top_score(q) for q in answerable]
    unknown = [retriever.top_score(q) for q in unanswerable]
    if not known or not unknown:
        raise ValueError(f"choose_threshold needs questions the documents answer and questions they do "
                         f"not, a few of each (got {len(known)} answerable, {len(unknown)} unanswerable)")
    cuts = sorted(set(known) | set(unknown))
    # A cut between two neighbouring scores, plus one above all: every way of splitting them.
    candidates = [(a + b) / 2 for a, b in zip(cuts, cuts[1:])] + [cuts[-1] + 1]
    errors = [sum(s < t for s in known) + sum(s >= t for s in unknown) for t in candidates]
    return candidates[errors.index(min(errors))]
