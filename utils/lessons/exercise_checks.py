"""The "check your answer" cells of the exercises (notebooks/exercises): a plain verdict.

A check that holds prints one line starting with ✓. One that does not raises NotYet, which Jupyter
shows as a short list of what is missing or wrong, without a traceback. The worked solutions run the
same checks under the tests, so a solution that stops solving its exercise fails there.

The checks look at what the learner wrote (data, a function, whether an adapter was trained), never
at how well a model then answered: that depends on the training, and is the exercise's to discuss.
Every check accepts the placeholders an open TODO leaves (None, an empty list) and says what to do.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from utils.core.config import quick
from utils.lessons.checks import loss_fell
from utils.tasks.clinical import FIELDS, to_xml
from utils.tasks.prompts import note_prompt, qa_prompt
from utils.tasks.scoring import SUMMARY_KEYS

# utils.lessons.recipes is imported inside the checks that need it: it loads transformers and peft (about
# 10 s), which exercise 3 (BM25 only) never uses.


class NotYet(AssertionError):
    """An exercise answer that is missing or wrong; the message says what to do, one line a problem."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the learner needs the list of what to
        # fix, not the frames of the check that found it.
        return ["✗ Not yet:", *(f"  - {line}" for line in str(self).splitlines())]


def verdict(problems: Iterable[str], success: str) -> None:
    """Raise NotYet listing the problems, or print the success message when there are none."""
    problems = [p for p in problems if p]
    if problems:
        raise NotYet("\n".join(problems))
    print(f"✓ {success}")


# --- exercise 1: a new fact, both ways ------------------------------------------------------

VELMASTRIN_FACTS = {"What does Velmastrin treat?": "frostbite", "Who makes Velmastrin?": "Arkwright Labs"}


def check_fact_pairs(pairs, history) -> None:
    """The two Velmastrin facts as (qa_prompt(question), answer) pairs, and an adapter trained on
    them for more epochs than FACT_RECIPE's, its loss falling."""
    from utils.lessons.recipes import FACT_RECIPE
    problems = []
    if not isinstance(pairs, list) or not all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        problems.append("pairs should be a list of (prompt, answer) tuples")
    else:
        for question, answer in VELMASTRIN_FACTS.items():
            if (qa_prompt(question), answer) not in pairs:
                problems.append(f"pairs has no (qa_prompt({question!r}), {answer!r})")
    if history is None:
        problems.append("train the adapter: tuned, history = train_adapter(...) (the second TODO)")
    elif len(history.losses) <= FACT_RECIPE.epochs and not quick():  # a quick run cuts every training
        # Two examples in batches of 8: one step an epoch.
        problems.append(f"the adapter trained for {len(history.losses)} steps: give it more passes than "
                        f"FACT_RECIPE's {FACT_RECIPE.epochs} epochs, e.g. replace(FACT_RECIPE, epochs=30)")
    elif not loss_fell(history):
        problems.append("the loss did not fall: check the pairs and the learning rate")
    verdict(problems, "the two facts, in the trained phrasing, and an adapter trained on them"
                      + (f" for {len(history.losses)} steps (loss {history.losses[0]:.2f} -> {history.losses[-1]:.3f})"
                         if history is not None and history.losses else ""))


def check_leaflet(leaflet: str, retriever, world) -> None:
    """A Velmastrin leaflet with its three facts, indexed with the world's leaflets, and found first
    for the reversed question."""
    problems = []
    if "TODO" in leaflet:
        problems.append("write the leaflet: replace the TODO line with a paragraph about Velmastrin")
    for fact in ("Velmastrin", "frostbite", "Arkwright Labs"):
        if fact.lower() not in leaflet.lower():
            problems.append(f"the leaflet should say {fact!r}")
    if not re.search(r"\b300\s*mg\b", leaflet):
        problems.append("the leaflet should give the maximum daily dose: 300 mg")
    if retriever is None:
        problems.append("index the leaflets: retriever = Retriever({**t0.documents, \"Velmastrin\": leaflet})")
    else:
        missing = [name for name in world.documents if name not in retriever.documents]
        if retriever.documents.get("Velmastrin") != leaflet:
            problems.append("the retriever should index your leaflet under the name \"Velmastrin\"")
        if missing:
            problems.append(f"index the world's leaflets too ({len(missing)} missing, e.g. {missing[0]}): "
                            f"Retriever({{**t0.documents, \"Velmastrin\": leaflet}})")
        if not problems and retriever.search("Which drug treats frostbite?", 1)[0].drug != "Velmastrin":
            problems.append("\"Which drug treats frostbite?\" does not find your leaflet first: does it say frostbite?")
    verdict(problems, "the leaflet has the three facts, and \"Which drug treats frostbite?\" finds it first")


def check_answers(questions: Mapping, **answers) -> None:
    """One answer from generate() a question, in order, for each system named (e.g. tuned_answers=...)."""
    problems = []
    for name, given in answers.items():
        if given is None:
            problems.append(f"{name} is still None: answer the {len(questions)} questions (the TODO above)")
        elif len(given) != len(questions) or not all(isinstance(getattr(a, "text", None), str) for a in given):
            problems.append(f"{name} should hold what generate() returns for the {len(questions)} questions, "
                            f"one answer each, in order")
    verdict(problems, f"{len(questions)} answers from each system: compare them with what you predicted")


# --- exercise 2: break the XML adapter, then fix it -------------------------------------------



def _summary_problems(name: str, summary, n_notes: int) -> list[str]:
    """Problems with `summary` as scoring.summarize's result for n_notes notes (each share a multiple
    of 1/n_notes); empty when there are none."""
    if summary is None:
        return [f"{name} is still None: score the adapter with summarize(evaluate_xml(...)) (the TODO above)"]
    if not isinstance(summary, Mapping) or set(summary) != set(SUMMARY_KEYS):
        return [f"{name} should be what summarize() returns: a dict with {', '.join(SUMMARY_KEYS)}"]
    if any(abs(summary[k] * n_notes - round(summary[k] * n_notes)) > 1e-6 for k in ("valid", *FIELDS)):
        return [f"{name} is not a score of the {n_notes} test notes: score lab_test, not all the lab notes"]
    return []


def check_before(before, weakest, n_notes: int) -> None:
    """The notebook-03 adapter scored on the new style's test notes, and the field it gets right least
    often named (any of the lowest, when several tie)."""
    problems = _summary_problems("before", before, n_notes)
    if not problems:
        lowest = min(before[f] for f in FIELDS)
        if weakest not in FIELDS:
            problems.append(f"weakest should name the field the adapter gets right least often: "
                            f"one of {', '.join(FIELDS)}")
        elif before[weakest] != lowest:
            problems.append(f"the adapter gets {weakest!r} right on {before[weakest]:.0%} of the notes; "
                            f"another field scores lower: look at before again")
    verdict(problems, f"{n_notes} notes in the new style scored, and the weakest field found"
                      + (f": {weakest} ({before[weakest]:.0%})" if not problems else ""))


def check_fix(pairs, lab_train, history, after, n_notes: int) -> None:
    """Notebook 03's 48 training notes plus the new style's training notes as XML pairs, an adapter
    trained on them, and it scored on the same test notes."""
    from utils.lessons.recipes import xml_pairs
    problems = []
    lab_pairs = [(note_prompt(n.text), to_xml(n.expected)) for n in lab_train]
    if not pairs:
        problems.append(f"pairs is empty: notebook 03's 48 notes (xml_pairs(48)) plus the {len(lab_train)} "
                        f"lab requests")
    else:
        missing = sum(p not in pairs for p in lab_pairs)
        if missing:
            problems.append(f"pairs lacks {missing} of the {len(lab_train)} lab-request training notes, "
                            f"as (note_prompt(n.text), to_xml(n.expected))")
        if not all(p in pairs for p in xml_pairs(48)):
            problems.append("pairs should hold notebook 03's 48 training notes too: xml_pairs(48) + ...")
    if history is None:
        problems.append("train the new adapter: fixed, history = train_adapter(...) (the second TODO)")
    problems += _summary_problems("after", after, n_notes)
    verdict(problems, f"an adapter trained on {len(pairs)} notes, scored on the same {n_notes} test notes")


# --- exercise 3: where retrieval fails -------------------------------------------------------

def check_lay_questions(lay_questions: Mapping, world, minimum: int = 6) -> None:
    """At least `minimum` questions, each paired with a drug of the world, none using the leaflet's
    word for the condition or the drug's name (then BM25 would find it without help)."""
    problems = []
    if len(lay_questions) < minimum:
        problems.append(f"write at least {minimum} questions (you have {len(lay_questions)})")
    for question, drug in lay_questions.items():
        if drug not in world.drugs:
            problems.append(f"{drug!r} (for {question!r}) is not a drug of the formulary: see data/world/drugs_t0.csv")
            continue
        condition = world.drugs[drug].treats
        if condition.lower() in question.lower():
            problems.append(f"{question!r} says {condition!r}, the leaflet's own word: ask as a patient would")
        if drug.lower() in question.lower():
            problems.append(f"{question!r} names the drug: ask about the condition instead")
    verdict(problems, f"{len(lay_questions)} questions in a patient's words, each paired with its drug")


def check_expand(expand: Callable[[str], str], synonyms: Mapping[str, str], lay_questions: Iterable[str]) -> None:
    """expand keeps the question and appends the medical term of every lay term in it, leaves other
    questions alone, and covers every lay question."""
    problems = []
    for lay, medical in synonyms.items():
        question = f"What helps with {lay}?"
        expanded = expand(question)
        if not expanded.startswith(question):
            problems.append(f"expand should keep the question and add terms after it: "
                            f"expand({question!r}) returned {expanded!r}")
        elif medical.lower() not in expanded[len(question):].lower():
            problems.append(f"expand({question!r}) should add {medical!r}; it returned {expanded!r}")
    plain = "Who makes Altrevon?"
    if expand(plain) != plain:
        problems.append(f"a question with no lay term should come back unchanged: expand({plain!r}) returned "
                        f"{expand(plain)!r}")
    uncovered = [q for q in lay_questions if expand(q) == q]
    if uncovered:
        problems.append(f"your table has no term for {uncovered[0]!r}"
                        + (f" (and {len(uncovered) - 1} more)" if len(uncovered) > 1 else ""))
    verdict(problems, f"expand adds the medical term of each of the {len(synonyms)} lay terms in the table")


def check_costs(unseen_phrasings: Mapping, no_leaflet: Mapping, synonyms: Mapping[str, str], world,
                minimum: int = 3) -> None:
    """Questions to measure what the synonym table costs: phrasings it does not know (paired with the
    drug that answers them), and questions using one of its terms that no leaflet answers (None)."""
    problems = []
    if len(unseen_phrasings) < minimum:
        problems.append(f"write at least {minimum} phrasings the table does not know "
                        f"(you have {len(unseen_phrasings)})")
    for question, drug in unseen_phrasings.items():
        known = [lay for lay in synonyms if lay.lower() in question.lower()]
        if drug not in world.drugs:
            problems.append(f"{drug!r} (for {question!r}) is not a drug of the formulary")
        elif known:
            problems.append(f"{question!r} uses {known[0]!r}, a term your table has: write a phrasing it does not have")
        elif world.drugs[drug].treats.lower() in question.lower():
            problems.append(f"{question!r} uses the leaflet's own word: write it in a patient's words")
    if len(no_leaflet) < minimum:
        problems.append(f"write at least {minimum} questions that no leaflet answers (you have {len(no_leaflet)})")
    for question, drug in no_leaflet.items():
        if drug is not None:
            problems.append(f"{question!r}: no leaflet answers these questions, so pair each with None")
        if not any(lay.lower() in question.lower() for lay in synonyms):
            problems.append(f"{question!r} uses no term of your table, so the table cannot change where it lands")
    verdict(problems, f"{len(unseen_phrasings)} phrasings the table does not know, "
                      f"{len(no_leaflet)} questions it may send to the wrong leaflet")
