"""Is this answer right? Every rule the lessons score with, and the fractions they report.

- a question about a fact: the expected answer (or an alias) appears as whole words in the model's
  first line, after normalising case, punctuation and spacing; for a drug that does not exist the
  right answer is to abstain (UNKNOWN, "I don't know", ...). The lenient rule (`is_correct_lenient`)
  also accepts another spacing ("chicken pox"), a plural ("migraines") and another name of the same
  condition ("high blood pressure"): the strict rule favours a model trained on the exact strings;
- a choice by likelihood: right when the right answer is the most likely candidate (rank 1);
- a confidence threshold: what share of right answers it keeps, and of wrong ones it lets through;
- drift: a right answer is the new one, a stale answer the old one;
- a diagnosis: schema-valid XML (utils.tasks.clinical.validate_xml), field by field against the note's;
  an outside note's condition also leniently, accepting the other names the note supports;
- the combined system: the right drug and dose, in valid XML or not.
"""
from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from utils.tasks.clinical import FIELDS, Diagnosis, Note, Verdict, validate_xml
from utils.tasks.world import UNKNOWN, Question, World

if TYPE_CHECKING:  # an annotation only: scoring needs no model
    from utils.core.generation import Answer

# Phrases with which a model abstains. Hedged answers ("not sure, maybe gout") count as
# abstaining too: for the unknown-drug lesson, hedging is the behaviour we hope to see.
_ABSTAIN = re.compile(
    r"\b(unknown|unsure|not sure|no idea|i (?:don'?t|do not) know|"
    r"(?:no|not have|don'?t have|do not have|lack) (?:any |enough )?(?:information|data|record)|"
    r"not (?:familiar|aware)|never heard|(?:can ?not|can'?t|could ?n[o']t|unable to) (?:find|answer|say)|"
    r"(?:does not|doesn'?t) (?:seem to )?exist|not a (?:known|real|recognised|recognized))\b",
    re.IGNORECASE)


def is_unknown_answer(text) -> bool:
    """Does a model answer abstain ("unknown", "I don't know", "not sure", "no information"...)?"""
    if not isinstance(text, str):
        return False
    return bool(_ABSTAIN.search(text.replace("\u2019", "'")))


# ---------------------------------------------------------------- questions about facts

@dataclass(frozen=True)
class Result:
    question: Question
    answer: Answer
    correct: bool


def scored(questions: list[Question], answers: dict[str, Answer]) -> list[Result]:
    """Each question's saved answer (question text -> Answer, e.g. one notebook's results read by the
    next) scored again, by today's rule; a question with no saved answer is a KeyError that names it."""
    missing = [q.text for q in questions if q.text not in answers]
    if missing:
        raise KeyError(f"no saved answer to {len(missing)} questions, e.g. {missing[0]!r}: measure them again")
    return [Result(q, answers[q.text], is_correct(q, answers[q.text].text)) for q in questions]


def normalize(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # "2,000 mg" is "2000 mg"
    text = re.sub(r"(\d)\s*mg\b", r"\1 mg", text)
    text = re.sub(r"[^\w\s'.]", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # "100.0" stays one number, not "100 0"
    return " ".join(text.split())


def is_correct(question: Question, text: str) -> bool:
    if question.answer == UNKNOWN:
        return is_unknown_answer(text)
    said = f" {normalize(text)} "
    return any(f" {normalize(a)} " in said for a in (question.answer, *question.aliases) if normalize(a))


# Other names of the bundled world's conditions, medical or lay, for the lenient rule: the world names each
# condition once (as its leaflet does), so a reader that says "high blood pressure" for "hypertension"
# is right in a clinician's eyes and wrong in the strict rule's. Only unambiguous pairs.
CONDITION_SYNONYMS = {
    "alopecia": ("hair loss",), "anemia": ("anaemia",), "chickenpox": ("varicella",),
    "cold sores": ("herpes labialis",), "conjunctivitis": ("pink eye",), "eczema": ("atopic dermatitis",),
    "gingivitis": ("gum disease",), "hay fever": ("allergic rhinitis",), "heartburn": ("acid reflux",),
    "hives": ("urticaria",), "hypertension": ("high blood pressure",), "influenza": ("flu",),
    "insomnia": ("sleeplessness",), "motion sickness": ("travel sickness",), "ringworm": ("tinea",),
    "shingles": ("herpes zoster",), "tinnitus": ("ringing in the ears",), "tuberculosis": ("tb",),
}


def _singular_words(text: str) -> list[str]:
    # A crude singular, the same on both sides: "migraines" and "migraine" both become "migraine"
    # ("diabetes" becomes "diabete" on both sides too, which is harmless).
    return [w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w
            for w in normalize(text).split()]


def is_correct_lenient(question: Question, text: str) -> bool:
    """`is_correct`, forgiving the form of a right answer: any spacing ("Chicken pox" for
    "chickenpox"), singular or plural ("migraines"), and the other names of a condition in
    CONDITION_SYNONYMS ("High blood pressure" for "hypertension"). Never stricter than is_correct."""
    strict = is_correct(question, text)
    if strict or question.answer == UNKNOWN:
        return strict
    words = _singular_words(text)
    # Every run of consecutive words, written without spaces: "chicken pox" -> "chickenpox".
    said = {"".join(words[i:j]) for i in range(len(words)) for j in range(i + 1, len(words) + 1)}
    forms = (question.answer, *question.aliases, *CONDITION_SYNONYMS.get(question.answer.lower(), ()))
    return any("".join(_singular_words(f)) in said for f in forms if _singular_words(f))


def leniently(results: list[Result]) -> list[Result]:
    """The same answers, scored by is_correct_lenient."""
    return [replace(r, correct=is_correct_lenient(r.question, r.answer.text)) for r in results]


def false_negatives(results: list[Result]) -> list[Result]:
    """Answers the strict rule counted wrong and the lenient rule accepts: the scorer's misses, not the model's."""
    return [r for r in results if not r.correct and is_correct_lenient(r.question, r.answer.text)]


def same_questions(results: dict[str, list[Result]]) -> dict[str, list[Result]]:
    """Each system's results on only the questions every system was asked, so that their accuracies
    compare the same sample."""
    asked = [{r.question for r in rs} for rs in results.values()]
    common = set.intersection(*asked) if asked else set()
    return {name: [r for r in rs if r.question in common] for name, rs in results.items()}


def _by_kind(results: list[Result]) -> dict[str, list[Result]]:
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        groups[r.question.kind].append(r)
    return groups


def count_by_kind(results: list[Result]) -> dict[str, int]:
    """How many questions of each kind were scored: the n behind each accuracy."""
    return {kind: len(rs) for kind, rs in _by_kind(results).items()}


def accuracy(results: list[Result]) -> float:
    return sum(r.correct for r in results) / len(results) if results else float("nan")


def accuracy_by_kind(results: list[Result]) -> dict[str, float]:
    return {kind: accuracy(rs) for kind, rs in _by_kind(results).items()}


def rank_one_rate(ranks: list[int]) -> float:
    """Share of questions whose right answer the model found most likely (rank 1, from
    generation.rank_of_right_answer); chance is 1 / the number of candidates."""
    return sum(r == 1 for r in ranks) / len(ranks) if ranks else float("nan")


def threshold_trade_off(right: list[float], wrong: list[float], keep: float) -> tuple[float, float]:
    """The highest confidence threshold that keeps at least `keep` (0..1) of the `right` answers'
    probabilities, and the share of the `wrong` answers' probabilities at or above it (they pass too);
    both undefined (nan) without right or wrong answers (a quick run may have none right)."""
    if not 0 < keep <= 1:
        raise ValueError(f"keep must be a share of the right answers, 0 < keep <= 1, got {keep}")
    if not right or not wrong:
        return float("nan"), float("nan")
    threshold = sorted(right, reverse=True)[math.ceil(keep * len(right)) - 1]
    return threshold, sum(p >= threshold for p in wrong) / len(wrong)


# ---------------------------------------------------------------- right, wrong or abstained

@dataclass(frozen=True)
class Outcomes:
    """Shares of the questions answered right, answered wrong, and abstained on. "unknown" is right for a
    question nobody can answer (a drug that does not exist), and an abstention for one with an answer."""
    right: float
    wrong: float
    abstained: float
    n: int

    def score(self, penalty: float) -> float:
        """A right answer earns 1, "unknown" 0, a wrong answer costs `penalty` (a share of the questions)."""
        return self.right - penalty * self.wrong


def wrong_answer_penalty(threshold: float) -> float:
    """The cost of a wrong answer that makes answering worth it only above `threshold` confidence:
    t / (1 - t) (Kalai et al. 2025). At t = 0.75 a wrong answer costs 3, and an answer the model is p
    sure of is worth p - 3 (1 - p), more than "unknown" only when p > 0.75."""
    if not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a confidence from 0 up to (not including) 1, got {threshold!r}")
    return threshold / (1 - threshold)


def outcomes(results: list[Result], min_confidence: float = 0.0) -> Outcomes:
    """Right, wrong and abstained shares when every answer given with a probability below
    `min_confidence` is replaced by "unknown" (0: every answer as given)."""
    if not results:
        raise ValueError("no results to count: score at least one answer")
    right = wrong = abstained = 0
    for r in results:
        said = r.answer.text if r.answer.probability >= min_confidence else UNKNOWN
        if is_correct(r.question, said):
            right += 1
        elif is_unknown_answer(said):
            abstained += 1
        else:
            wrong += 1
    n = len(results)
    return Outcomes(right / n, wrong / n, abstained / n, n)


# ---------------------------------------------------------------- drift: right or stale

def is_stale(result: Result, old: World) -> bool:
    """Did the model give the `old` world's answer, for a fact whose answer has changed since?"""
    q = result.question
    if q.drug not in old.drugs:
        return False
    was = old.as_of(q)
    return was.answer != q.answer and is_correct(was, result.answer.text)


def drift_scores(results: list[Result], old: World) -> dict[str, float]:
    """Fraction right (the new answer) and, for facts that changed, fraction stale (the old one);
    both undefined (nan) for no results, as `accuracy` is: a group a world lacks (no new drugs)."""
    if not results:
        return {"right": float("nan"), "stale": float("nan")}
    return {"right": accuracy(results), "stale": sum(is_stale(r, old) for r in results) / len(results)}


# ---------------------------------------------------------------- diagnoses (notebook 03)

def _norm(value: object) -> object:
    # Free-text fields: "Hay  Fever" and "hay fever" name the same condition.
    return " ".join(value.split()).lower() if isinstance(value, str) else value


def field_accuracy(pred: Diagnosis | None, expected: Diagnosis, fields=FIELDS) -> float:
    """Share of `fields` the prediction got right; no (valid) prediction scores 0."""
    if not fields:
        raise ValueError("fields must name at least one field")
    if pred is None:
        return 0.0

    def same(field: str) -> bool:
        a, b = getattr(pred, field), getattr(expected, field)
        return _norm(a) == _norm(b) if field in ("condition", "drug") else a == b

    return sum(same(f) for f in fields) / len(fields)


@dataclass(frozen=True)
class Scored:
    note: Note
    answer: str
    verdict: Verdict
    fields: float  # share of FIELDS right; 0 when the answer is not schema-valid


def score_answers(notes: list[Note], answers: list[str]) -> list[Scored]:
    """Validate each answer and compare it with its note's expected diagnosis."""
    if len(notes) != len(answers):
        raise ValueError(f"{len(notes)} notes but {len(answers)} answers: give one answer a note")
    scored = []
    for note, answer in zip(notes, answers):
        verdict = validate_xml(answer)
        scored.append(Scored(note, answer, verdict, field_accuracy(verdict.diagnosis, note.expected)))
    return scored


SUMMARY_KEYS = ("valid", "fields", *FIELDS)  # what summarize returns


def summarize(scored: list[Scored]) -> dict[str, float]:
    """Share of schema-valid answers, mean field accuracy (invalid answers count 0), and the share
    right of each field; each undefined (nan) for no answers, as `accuracy` is (a quick run's few
    notes may hold none of a group)."""
    if not scored:
        return dict.fromkeys(SUMMARY_KEYS, float("nan"))
    n = len(scored)
    summary = {"valid": sum(s.verdict.valid for s in scored) / n,
               "fields": sum(s.fields for s in scored) / n}
    for f in FIELDS:
        summary[f] = sum(field_accuracy(s.verdict.diagnosis, s.note.expected, (f,)) for s in scored) / n
    return summary


def accepting_other_names(scored: list[Scored]) -> list[Scored]:
    """The same answers scored by the outside notes' lenient rule (data/outside/README.md): a condition
    is right when it equals the note's expected one or any name of the note's `accept` (the other names
    the note supports). Each note needs an `accept` (utils.tasks.outside.OutsideNote)."""
    lenient = []
    for s in scored:
        if not hasattr(s.note, "accept"):
            raise TypeError(f"note {s.note.id!r} has no `accept` names: score the outside notes "
                            f"(utils.tasks.outside.load_outside_notes) leniently, other notes with summarize")
        said = s.verdict.diagnosis
        if said is not None and _norm(said.condition) in {_norm(name) for name in s.note.accept}:
            said = replace(said, condition=s.note.expected.condition)  # another name of the same diagnosis
            s = replace(s, verdict=replace(s.verdict, diagnosis=said), fields=field_accuracy(said, s.note.expected))
        lenient.append(s)
    return lenient


def summarize_outside(scored: list[Scored]) -> dict[str, dict[str, float]]:
    """`summarize` of answers to outside notes, by the strict rule (the condition equals the expected
    one) and the lenient one (`accepting_other_names`): {"strict": {...}, "lenient": {...}}."""
    return {"strict": summarize(scored), "lenient": summarize(accepting_other_names(scored))}


# ---------------------------------------------------------------- diagnoses with a treatment (notebook 06)

def facts_right(answer: str, expected: Diagnosis) -> bool:
    """Does the answer name the expected drug and its dose, XML or not? Free text counts too, so
    that a system without the schema is judged on its facts alone."""
    if expected.drug is None:
        raise ValueError("no treatment expected for this note: score facts on notes with one")
    text = answer.lower()
    return (re.search(rf"\b{re.escape(expected.drug.lower())}\b", text) is not None
            and re.search(rf"(?<![\d,]){expected.max_daily_dose_mg}(?![\d,])",
                          text.replace(f"{expected.max_daily_dose_mg:,}", str(expected.max_daily_dose_mg)))
            is not None)


def score_system(answers: list[str], expected: list[Diagnosis]) -> dict[str, float]:
    """valid: the answer is schema-valid XML; facts: it names the right drug and dose; both: a
    valid diagnosis whose treatment is right (what a downstream program can use); all right: both,
    and every field of the diagnosis right too (a treatment beside age 3 for a 67-year-old is not)."""
    if len(answers) != len(expected) or not answers:
        raise ValueError(f"{len(answers)} answers for {len(expected)} expected diagnoses: give one each")
    valid = [validate_xml(a) for a in answers]
    right = [facts_right(a, e) for a, e in zip(answers, expected)]
    usable = [v.valid and v.diagnosis.drug == e.drug and v.diagnosis.max_daily_dose_mg == e.max_daily_dose_mg
              for v, e in zip(valid, expected)]
    exact = [u and field_accuracy(v.diagnosis, e) == 1 for u, v, e in zip(usable, valid, expected)]
    n = len(answers)
    return {"valid": sum(v.valid for v in valid) / n, "facts": sum(right) / n, "both": sum(usable) / n,
            "all right": sum(exact) / n}
