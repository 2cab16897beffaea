"""Retrieval that misleads: the documents of the bonus notebook, generated from the world's files.

- wrong leaflets: a drug's leaflet that states a wrong maker or a wrong maximum daily dose, in the
  world's own words (another maker of the world, a neighbouring dose of the world's);
- conflicting pairs: the old and the new leaflet of a drug whose maker or dose changed, each dated,
  the new one without the sentence that narrates the change (as when an old file is not deleted);
  `keep_newest` is the engineering fix;
- maker profiles (data/makers/makers.csv, outside the leaflets notebook 04 indexes) and the two-hop
  questions that need a drug's leaflet and its maker's profile.

Everything is drawn with a seed or in file order, so a notebook rerun sees the same documents.
"""
from __future__ import annotations

import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from utils.core.config import data_dir as default_data_dir
from utils.core.datafiles import DataError, csv_records, fail
from utils.tasks.scoring import Result, is_correct
from utils.tasks.world import Question, World

# The facts a wrong leaflet misstates and a conflicting pair disagrees on: the ones whose change the
# t1 leaflets narrate (a withdrawal is itself the new fact, so it has no two versions to compare).
ATTRIBUTES = ("maker", "max_daily_dose_mg")
DATE_LINE = "Updated: {}"  # below a document's heading, with the ISO date (2024-03-01)
OLD_DATE, NEW_DATE = date(2024, 3, 1), date(2026, 9, 1)  # before and after the world's change in 2026
MAKER_COLUMNS = ("maker", "country", "founded")
TWO_HOP = {"maker_country": "In which country is the maker of {drug} based?",
           "maker_founded": "In which year was the maker of {drug} founded?"}
# The same facts asked of the maker itself: the second hop, and what a fine-tuned model is taught.
MAKER_FACTS = {"maker_country": "In which country is {maker} based?",
               "maker_founded": "In which year was {maker} founded?"}


# ---------------------------------------------------------------- mentions of a fact in a leaflet

def _first_word(maker: str) -> str:
    return maker.split()[0]  # "Corvane" alone names Corvane Pharma (the scoring accepts it too)


def _mentions(text: str, attribute: str, value) -> bool:
    """Does `text` mention this value in any form: the maker's distinctive first word in any case
    and anywhere ("CORVANE", "corvanepharma.com"), the dose with any spacing or unit spelling?"""
    if attribute == "maker":
        return _first_word(value).lower() in text.lower()
    return re.search(rf"(?<![\d,.])(?:{value:,}|{value})\s*(?:mg|milligrams)\b", text, re.IGNORECASE) is not None


def _replaced(text: str, attribute: str, old, new) -> str:
    """`text` with `old` replaced by `new` where it is written as the world's loader accepts it
    (the maker's full name or its first word; the dose as "40 mg", "40mg", "1,000 mg", "40 milligrams")."""
    if attribute == "maker":
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
        return re.sub(rf"\b{re.escape(_first_word(old))}\b", _first_word(new), text)
    return re.sub(rf"(?<![\d,.])(?:{old:,}|{old})(?= ?(?:mg|milligrams)\b)", str(new), text)


def _shown(attribute: str, value) -> str:
    return f"{value} mg" if attribute == "max_daily_dose_mg" else str(value)


def _leaflet_name(world: World, drug: str) -> str:
    return f"the {world.time} leaflet of {drug} (documents/{world.time}/{drug.lower()}.md)"


# ---------------------------------------------------------------- wrong leaflets

@dataclass(frozen=True)
class WrongLeaflet:
    drug: str
    attribute: str  # "maker" or "max_daily_dose_mg"
    true_value: str | int  # as the drugs CSV has it: "Corvane Pharma", 40
    leaflet_value: str | int  # what this leaflet states instead
    text: str  # the whole leaflet, heading included, like World.documents


def _wrong_value(world: World, drug: str, attribute: str, rng: random.Random):
    """A plausible wrong value the leaflet does not already mention: another maker of the world, or
    a dose one or two steps away on the world's own ladder of doses."""
    true, text = getattr(world.drugs[drug], attribute), world.documents[drug]
    values = sorted({getattr(d, attribute) for d in world.drugs.values()})
    if attribute == "max_daily_dose_mg":
        i = values.index(true)
        values = values[max(i - 2, 0):i] + values[i + 1:i + 3]
    candidates = [v for v in values if v != true and not _mentions(text, attribute, v)]
    if not candidates:
        raise DataError(f"{_leaflet_name(world, drug)}: no other {attribute} of the world to put in it "
                        f"(it needs at least two different values in drugs_{world.time}.csv)")
    return rng.choice(candidates)


def wrong_leaflet(world: World, drug: str, attribute: str, wrong) -> WrongLeaflet:
    """`drug`'s leaflet with every mention of its `attribute` replaced by `wrong`. A DataError if the
    leaflet still mentions the true value afterwards (written in a form the loader does not accept) or
    never mentioned it, so a wrong leaflet never states both values."""
    if attribute not in ATTRIBUTES:
        raise ValueError(f"attribute {attribute!r}: a wrong leaflet misstates one of {ATTRIBUTES}")
    if drug not in world.drugs:
        raise ValueError(f"no drug {drug!r} in the {world.time} world; choose one of {list(world.drugs)}")
    true, text = getattr(world.drugs[drug], attribute), world.documents[drug]
    if not _mentions(text, attribute, true):
        raise DataError(f"{_leaflet_name(world, drug)} never states its {attribute} {_shown(attribute, true)!r}; "
                        f"state it as drugs_{world.time}.csv has it")
    changed = _replaced(text, attribute, true, wrong)
    if _mentions(changed, attribute, true) or not _mentions(changed, attribute, wrong):
        raise DataError(f"{_leaflet_name(world, drug)} still mentions {_shown(attribute, true)!r} after it was "
                        f"replaced by {_shown(attribute, wrong)!r}; write the {attribute} as the CSV has it "
                        f"(e.g. '{_shown(attribute, true)}'), or leave the drug out")
    return WrongLeaflet(drug, attribute, true, wrong, changed)


def wrong_leaflets(world: World, n: int = 8, seed: int = 0, attributes=ATTRIBUTES) -> list[WrongLeaflet]:
    """Wrong leaflets for `n` drugs drawn with `seed`, misstating `attributes` in turn (by default a
    maker, a dose, a maker...). Pass the t0 world: a t1 leaflet also narrates its changes."""
    if unknown := [a for a in attributes if a not in ATTRIBUTES]:
        raise ValueError(f"attributes {unknown}: a wrong leaflet misstates one of {ATTRIBUTES}")
    if not attributes or not 1 <= n <= len(world.drugs):
        raise ValueError(f"n must be between 1 and {len(world.drugs)} (the world's drugs) and attributes "
                         f"not empty; got n={n!r}, attributes={attributes!r}")
    rng = random.Random(seed)
    drugs = rng.sample(list(world.drugs), n)
    return [wrong_leaflet(world, drug, attr, _wrong_value(world, drug, attr, rng))
            for drug, attr in zip(drugs, (attributes[i % len(attributes)] for i in range(n)))]


def _asked(world: World, kind: str, drug: str, attribute: str) -> Question:
    """The question about a drug's maker (its trained phrasing) or dose (its first documented one),
    answered as `world` has it."""
    templates = world.templates
    template = (templates["maker"]["trained"] if attribute == "maker"
                else templates["documented"]["max_daily_dose_mg"][0])
    return world.as_of(Question(kind, template.format(drug=drug, drug_lower=drug.lower()), "", drug, attribute))


def misled_questions(world: World, wrong: WrongLeaflet) -> tuple[Question, Question]:
    """The question a wrong leaflet answers, twice: with the true answer and with the leaflet's, each in
    every form the scoring accepts."""
    drug = replace(world.drugs[wrong.drug], **{wrong.attribute: wrong.leaflet_value})
    as_the_leaflet_says = replace(world, drugs={**world.drugs, wrong.drug: drug})
    return (_asked(world, "wrong_leaflet", wrong.drug, wrong.attribute),
            _asked(as_the_leaflet_says, "wrong_leaflet", wrong.drug, wrong.attribute))


def whose_answer(results: list[Result], **sides: list[Question]) -> list[str]:
    """For each result, the name of the first side whose question of the same wording its answer is right
    for, else "other": whose_answer(results, truth=[...], leaflet=[...]) -> ["leaflet", "truth", ...].
    Matched by wording, so the results may be of some of the questions (a quick run asks a few)."""
    by_text = {name: {q.text: q for q in questions} for name, questions in sides.items()}
    for name, questions in by_text.items():
        if missing := [r.question.text for r in results if r.question.text not in questions]:
            raise ValueError(f"the side {name!r} has no question worded {missing[0]!r}; give every side the "
                             f"questions the results answer")
    return [next((name for name, questions in by_text.items() if is_correct(questions[r.question.text], r.answer.text)),
                 "other") for r in results]


# ---------------------------------------------------------------- dated versions

def heading(text: str) -> str:
    """The name in a document's first line, "# Altrevon" -> "Altrevon"."""
    first = text.split("\n", 1)[0]
    if not first.startswith("# ") or not first[2:].strip():
        raise ValueError(f"a document starts with {first[:40]!r}; it must start with '# <its name>'")
    return first[2:].strip()


def dated(text: str, day: date) -> str:
    """The document with the line "Updated: <day>" below its heading."""
    if updated_on(text) is not None:
        raise ValueError(f"the document of {heading(text)} already has a date line; give it undated")
    name, body = heading(text), text.split("\n", 1)[1].lstrip("\n")
    return f"# {name}\n\n{DATE_LINE.format(day.isoformat())}\n\n{body}"


def updated_on(text: str) -> date | None:
    """The date of a document's "Updated: YYYY-MM-DD" line; None if it has none."""
    found = re.search(r"^Updated: *(\S*) *$", text, re.MULTILINE)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        raise ValueError(f"the document of {heading(text)} has the date line {found.group(0)!r}; "
                         f"write the date as YYYY-MM-DD, e.g. 'Updated: 2024-03-01'") from None


def keep_newest(documents: Mapping[str, str]) -> dict[str, str]:
    """One document per name (its "# Name" heading), the most recently updated: the rule that keeps
    an old version out of the index. Keyed by that name, in the order names first appear; a name
    with one document keeps it, dated or not; several versions must each have a different date."""
    versions: dict[str, list[str]] = {}
    for key, text in documents.items():
        versions.setdefault(heading(text), []).append(key)
    days = {key: updated_on(text) for key, text in documents.items()}  # a malformed date line fails here
    newest = {}
    for name, keys in versions.items():
        if len(keys) > 1:
            if undated := [key for key in keys if days[key] is None]:
                raise ValueError(f"{len(keys)} documents are about {name} and {undated} has no date line; "
                                 f"date each version ('{DATE_LINE.format('YYYY-MM-DD')}' below the heading)")
            if len({days[key] for key in keys}) < len(keys):
                dates = ", ".join(f"{key}: {days[key]}" for key in keys)
                raise ValueError(f"two versions of {name} have the same date ({dates}); which is newer "
                                 f"cannot be told: give each its own date")
        newest[name] = documents[max(keys, key=lambda key: days[key] or date.min)]
    return newest


# ---------------------------------------------------------------- conflicting pairs

@dataclass(frozen=True)
class ConflictingPair:
    drug: str
    attribute: str  # "maker" or "max_daily_dose_mg"
    old_value: str | int
    new_value: str | int
    old_date: date
    new_date: date
    old_text: str  # the old world's leaflet, dated old_date
    new_text: str  # the new world's leaflet without the sentence that narrates the change, dated new_date

    @property
    def versions(self) -> dict[str, str]:
        """Both versions as documents of one index, old first: "Zorvalin (2024-03-01)" -> text."""
        return {f"{self.drug} ({self.old_date.isoformat()})": self.old_text,
                f"{self.drug} ({self.new_date.isoformat()})": self.new_text}


def _sentences(paragraph: str) -> list[str]:
    # A full stop after "Dr" ends a title, not a sentence.
    return re.split(r"(?<=[.!?])(?<!\bDr\.)\s+", paragraph.strip())


def without_change_sentence(text: str, attribute: str, old) -> str:
    """A new leaflet without the sentences that still mention the `old` value: those that narrate the
    change ("In 2026 the maximum daily dose was raised from 20 mg to 25 mg."). A ValueError if none
    does: then the leaflet does not say what changed, and there is nothing to strip."""
    name, body = heading(text), text.split("\n", 1)[1]
    sentences = _sentences(body)
    kept = [s for s in sentences if not _mentions(s, attribute, old)]
    if len(kept) == len(sentences):
        raise ValueError(f"no sentence of the leaflet of {name} mentions its earlier {attribute} "
                         f"{_shown(attribute, old)!r}: the sentence that narrates the change was not found")
    return f"# {name}\n\n{' '.join(kept)}\n"


def conflicting_pairs(old: World, new: World, old_date: date = OLD_DATE,
                      new_date: date = NEW_DATE) -> list[ConflictingPair]:
    """For every drug of both worlds whose maker or maximum daily dose changed (old's file order): its
    old leaflet and its new one, without the sentence that narrates the change, each dated."""
    if not old_date < new_date:
        raise ValueError(f"old_date {old_date} must come before new_date {new_date}")
    pairs = []
    for name, before in old.drugs.items():
        after = new.drugs.get(name)
        for attribute in ATTRIBUTES:
            if after is None or getattr(before, attribute) == getattr(after, attribute):
                continue
            was, now = getattr(before, attribute), getattr(after, attribute)
            stripped = without_change_sentence(new.documents[name], attribute, was)
            if not _mentions(stripped, attribute, now):
                raise DataError(f"{_leaflet_name(new, name)} states its {attribute} {_shown(attribute, now)!r} "
                                f"only in the sentence that narrates the change; state it in another sentence too")
            pairs.append(ConflictingPair(name, attribute, was, now, old_date, new_date,
                                         dated(old.documents[name], old_date), dated(stripped, new_date)))
    return pairs


def version_questions(old: World, new: World, pair: ConflictingPair) -> tuple[Question, Question]:
    """The question both versions of a pair answer, twice: with the new version's answer and with the old's."""
    return _asked(new, "versions", pair.drug, pair.attribute), _asked(old, "versions", pair.drug, pair.attribute)


# ---------------------------------------------------------------- what an index holds

def _require(documents: Mapping[str, str], drugs: list[str], what: str) -> None:
    if missing := [d for d in drugs if d not in documents]:
        raise ValueError(f"no document for {missing} to replace with {what}; the documents are "
                         f"{list(documents)}")


def with_wrong_leaflets(documents: Mapping[str, str], wrong: list[WrongLeaflet]) -> dict[str, str]:
    """The documents with each wrong leaflet in place of its drug's (same key, same place)."""
    _require(documents, [w.drug for w in wrong], "a wrong leaflet")
    texts = {w.drug: w.text for w in wrong}
    return {key: texts.get(key, text) for key, text in documents.items()}


def with_both_versions(documents: Mapping[str, str], pairs: list[ConflictingPair]) -> dict[str, str]:
    """The documents with each pair's drug's document replaced, in its place, by both dated versions
    (ConflictingPair.versions, old first: on a tie the search ranks the earlier document first)."""
    _require(documents, [p.drug for p in pairs], "both versions")
    by_drug = {p.drug: p.versions for p in pairs}
    out = {}
    for key, text in documents.items():
        out.update(by_drug.get(key, {key: text}))
    return out


# ---------------------------------------------------------------- makers and two-hop questions

@dataclass(frozen=True)
class Maker:
    name: str
    country: str
    founded: int


def load_makers(data_dir: Path | None = None) -> dict[str, Maker]:
    """Read and validate <data folder>/makers/makers.csv (columns maker, country, founded), by name in
    file order. data_dir: the folder that contains makers/; by default the FTRAG_DATA setting, else the
    bundled data/."""
    path = (default_data_dir() if data_dir is None else Path(data_dir)) / "makers" / "makers.csv"
    if not path.is_file():
        fail(path, "file", "missing; copy the repository's data/makers/ there, or write it with "
              "python data/makers/make_makers.py --world <your world folder> --out <this folder>")
    makers, lines = {}, {}
    for line, rec in csv_records(path, MAKER_COLUMNS, "maker", field_in_place=True):
        if not (rec["founded"].isascii() and rec["founded"].isdigit() and len(rec["founded"]) == 4):
            fail(path, f"line {line}, field 'founded'", f"{rec['founded']!r} is not a year; write "
                 f"four digits, e.g. 1932")
        if rec["maker"].lower() in lines:
            fail(path, f"line {line}, field 'maker'", f"duplicate maker {rec['maker']!r}, already on "
                 f"line {lines[rec['maker'].lower()]}; each maker has one row")
        lines[rec["maker"].lower()] = line
        makers[rec["maker"]] = Maker(rec["maker"], rec["country"], int(rec["founded"]))
    return makers


# Profile templates in the leaflets' manner: a short paragraph, the facts in varying order and words.
PROFILES = [
    "{name} is a pharmaceutical company based in {country}. It was founded in {founded} and develops "
    "prescription medicines for hospitals and pharmacies. {extra}",
    "Founded in {founded}, {name} makes medicines at its headquarters in {country}. {extra} Its "
    "tablets are sold through pharmacies in many countries.",
    "{name} has made medicines since it was founded in {founded}. {extra} The company is based in "
    "{country}, where it runs its main laboratories.",
]
PROFILE_FILLERS = [
    "Most of its research is done together with university hospitals.",
    "The company publishes the results of all of its clinical trials.",
    "It employs chemists, pharmacists and doctors in its research teams.",
    "Every batch of its tablets is tested before it leaves the factory.",
]


def maker_profiles(makers: Mapping[str, Maker]) -> dict[str, str]:
    """A short profile per maker (name -> "# Name" and a paragraph), stating its country and founding
    year and no drug: a question about a drug's maker needs the drug's leaflet too."""
    profiles = {}
    for i, m in enumerate(makers.values()):
        body = PROFILES[i % len(PROFILES)].format(name=m.name, country=m.country, founded=m.founded,
                                                  extra=PROFILE_FILLERS[i % len(PROFILE_FILLERS)])
        profiles[m.name] = f"# {m.name}\n\n{body}\n"
    return profiles


def two_hop_questions(world: World, makers: Mapping[str, Maker]) -> list[Question]:
    """For every drug of the world (in file order), "In which country is the maker of X based?" and
    "In which year was the maker of X founded?", answered from makers.csv."""
    out = []
    for drug in world.drugs.values():
        maker = makers.get(drug.maker)
        if maker is None:
            raise DataError(f"makers.csv has no row for {drug.maker!r}, the maker of {drug.name} in "
                            f"drugs_{world.time}.csv; add a row for it (maker,country,founded)")
        answers = {"maker_country": maker.country, "maker_founded": str(maker.founded)}
        out += [Question("two_hop", template.format(drug=drug.name), answers[attribute], drug.name, attribute)
                for attribute, template in TWO_HOP.items()]
    return out


def maker_questions(makers: Mapping[str, Maker]) -> list[Question]:
    """Each maker's country and founding year, asked of the maker by name (MAKER_FACTS)."""
    return [Question("maker_fact", template.format(maker=m.name), str(getattr(m, attribute.removeprefix("maker_"))),
                     None, attribute)
            for m in makers.values() for attribute, template in MAKER_FACTS.items()]


def second_hop(question: Question, maker: str) -> Question:
    """A two-hop question's second step: its fact asked of the maker the first step found (right or not),
    with the two-hop question's answer."""
    if question.attribute not in MAKER_FACTS:
        raise ValueError(f"{question.text!r} asks for {question.attribute!r}; a second hop asks one of "
                         f"{list(MAKER_FACTS)} (two_hop_questions)")
    return replace(question, text=MAKER_FACTS[question.attribute].format(maker=maker.strip()))
