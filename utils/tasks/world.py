"""The fictional drug formulary in data/world/ (or your own, see config.data_dir): load it, validate it,
turn it into questions.

The world is invented on purpose, so a base model cannot already know the answers; what a
model answers correctly it learned from fine-tuning or read in a retrieved leaflet.
Learners are invited to edit the data, so every problem is reported as a DataError that
names the file, the line and what to fix, instead of a deep library traceback.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass, field, replace
from pathlib import Path

from utils.core.config import data_dir as default_data_dir
from utils.core.datafiles import DataError, csv_records, json_problem, read_text, without_heading
from utils.core.datafiles import fail as _fail

COLUMNS = ("drug", "treats", "maker", "year_approved", "max_daily_dose_mg", "discoverer", "status")
STATUSES = ("available", "withdrawn")
TRAINED_ATTRIBUTES = ("treats", "maker")  # taught by fine-tuning
DOCUMENTED_ATTRIBUTES = ("max_daily_dose_mg", "year_approved", "discoverer")  # only in leaflets
# "unknown" beyond an invented name: a real medicine the formulary lacks ("real_drug") and an attribute of a
# drug of the world that no leaflet states ("unstated"). Both are answered "unknown", reported apart and kept
# out of the threshold's calibration (utils.tasks.retrieval.split_answerable): the figures of the other kinds
# stay as they were.
UNCALIBRATED_KINDS = ("real_drug", "unstated")
KINDS = ("trained", "paraphrase", "reversed", "documented", "unknown", "control", *UNCALIBRATED_KINDS)
# The questions.json list of drug names each name-only kind asks about in the trained phrasings.
NAME_LISTS = {"unknown": "unknown_drugs", "real_drug": "real_drugs"}
# The expected answer about a drug that is not in the world, and what a system says when it abstains
# (utils.tasks.scoring.is_unknown_answer accepts its other ways of saying so).
UNKNOWN = "unknown"
# One held-out phrasing a fact (80 questions at t0) keeps a closed-book evaluation under a
# minute on a laptop CPU; the rotation still uses every template about equally often.
PARAPHRASES_PER_FACT = 1

# Placeholders each kind of template may use; anything else is a typo in questions.json.
DRUG_FIELDS = {"drug", "drug_lower"}
REVERSED_FIELDS = {"treats"}


@dataclass(frozen=True)
class Drug:
    name: str
    treats: str
    maker: str
    year_approved: int
    max_daily_dose_mg: int
    discoverer: str
    status: str


@dataclass(frozen=True)
class Question:
    kind: str
    text: str
    answer: str
    drug: str | None
    attribute: str | None
    aliases: tuple[str, ...] = ()


@dataclass
class World:
    time: str
    drugs: dict[str, Drug]  # in file order, which fixes the order of every question list
    documents: dict[str, str]  # drug name -> text of its .md leaflet
    templates: dict = field(default_factory=dict, repr=False)  # parsed questions.json

    def questions(self, kind: str) -> list[Question]:
        """All questions of one kind, in a deterministic order (withdrawn drugs included)."""
        t = self.templates
        out = []
        if kind == "trained":
            for drug in self.drugs.values():
                for attr in TRAINED_ATTRIBUTES:
                    out.append(_ask("trained", t[attr]["trained"], drug, attr))
        elif kind == "paraphrase":
            # Rotate through the held-out templates so each is used about equally often.
            for i, drug in enumerate(self.drugs.values()):
                for attr in TRAINED_ATTRIBUTES:
                    pool = t[attr]["paraphrase"]
                    for j in range(PARAPHRASES_PER_FACT):
                        template = pool[(i * PARAPHRASES_PER_FACT + j) % len(pool)]
                        out.append(_ask("paraphrase", template, drug, attr))
        elif kind == "reversed":
            pool = t["reversed"]
            for i, drug in enumerate(self.drugs.values()):
                text = pool[i % len(pool)].format(treats=drug.treats)
                out.append(Question("reversed", text, drug.name, drug.name, "treats"))
        elif kind == "documented":
            # One documented attribute a drug, in rotation: 40 questions, all three attributes.
            for i, drug in enumerate(self.drugs.values()):
                attr = DOCUMENTED_ATTRIBUTES[i % len(DOCUMENTED_ATTRIBUTES)]
                pool = t["documented"][attr]
                out.append(_ask("documented", pool[(i // len(DOCUMENTED_ATTRIBUTES)) % len(pool)], drug, attr))
        elif kind in NAME_LISTS:
            for name in t[NAME_LISTS[kind]]:
                for attr in TRAINED_ATTRIBUTES:
                    out.append(Question(kind, _fill(t[attr]["trained"], name), UNKNOWN, name, attr))
        elif kind == "unstated":
            # One a drug, rotating through the templates, as "documented" does.
            pool = t["unstated"]
            for i, drug in enumerate(self.drugs.values()):
                item = pool[i % len(pool)]
                out.append(Question("unstated", _fill(item["question"], drug.name), UNKNOWN, drug.name,
                                    item["attribute"]))
        elif kind == "control":
            for item in t["control"]:
                out.append(Question("control", item["question"], item["answer"], None, None,
                                    tuple(item.get("aliases", ()))))
        else:
            raise ValueError(f"unknown question kind {kind!r}; choose one of {', '.join(KINDS)}")
        return out

    def as_of(self, question: Question) -> Question:
        """The same question with the answer this world gives (e.g. the stale, earlier answer)."""
        answer, aliases = _answer(self.drugs[question.drug], question.attribute)
        return replace(question, answer=answer, aliases=aliases)

    def all_paraphrases(self, drugs=None) -> list[Question]:
        """Every held-out paraphrase template for every trained fact (of `drugs`, if given):
        a finer measure than questions("paraphrase"), which asks each fact once."""
        return [_ask("paraphrase", template, drug, attr)
                for drug in self.drugs.values() if drugs is None or drug.name in drugs
                for attr in TRAINED_ATTRIBUTES for template in self.templates[attr]["paraphrase"]]

    def training_facts(self, n_augment: int = 0) -> list[Question]:
        """Trained-phrasing questions of treats and maker for every drug, each followed by
        the first n_augment augment paraphrases (more phrasings help a fact generalise)."""
        most = min(len(self.templates[a]["augment"]) for a in TRAINED_ATTRIBUTES)
        if not 0 <= n_augment <= most:
            raise ValueError(f"n_augment must be between 0 and {most}, got {n_augment}")
        out = []
        for drug in self.drugs.values():
            for attr in TRAINED_ATTRIBUTES:
                spec = self.templates[attr]
                for template in [spec["trained"], *spec["augment"][:n_augment]]:
                    out.append(_ask("trained", template, drug, attr))
        return out


def _world_dir(data_dir: Path | None) -> Path:
    """data_dir/world, or a DataError naming what is missing."""
    data_dir = default_data_dir() if data_dir is None else Path(data_dir)
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: no such folder; give the folder that contains world/ "
                        f"(a copy of the repository's data/)")
    world_dir = data_dir / "world"
    if not world_dir.is_dir():
        hint = (" (give the folder that contains world/, not world/ itself)"
                if (data_dir / "questions.json").is_file() else "; copy the repository's data/world/ there")
        raise DataError(f"{data_dir}: no world/ folder{hint}")
    return world_dir


def time_points(data_dir: Path | None = None) -> list[str]:
    """The time points a world has, one drugs_<time>.csv each: ["t0", "t1"] for the bundled one."""
    return sorted(p.stem[len("drugs_"):] for p in _world_dir(data_dir).glob("drugs_*.csv"))


def load_world(time: str = "t0", data_dir: Path | None = None) -> World:
    """Read and validate <data folder>/world/ at one time point ("t0" or "t1").

    data_dir: the folder that contains world/; by default the FTRAG_DATA setting, else the bundled
    data/ (utils.core.config.data_dir)."""
    world_dir = _world_dir(data_dir)
    times = time_points(world_dir.parent)
    if time not in times:
        raise DataError(f"{world_dir}: no time point {time!r} (no drugs_{time}.csv); "
                        f"available: {', '.join(times) or 'none'}")
    csv_path = world_dir / f"drugs_{time}.csv"
    drugs, lines = _read_drugs(csv_path)
    documents = _read_documents(world_dir / "documents" / time, drugs, lines, csv_path)
    leaflets = {name: world_dir / "documents" / time / f"{name.lower()}.md" for name in drugs}
    templates = _read_templates(world_dir / "questions.json", drugs, documents, leaflets)
    return World(time, drugs, documents, templates)


def changed_facts(old: World, new: World) -> dict[str, list[Question]]:
    """Split the trained facts of `new` by what happened since `old`, asked in trained
    phrasing with the NEW answer. Drugs that vanished from `new` are not reported."""
    out = {"changed": [], "unchanged": [], "new": []}
    for q in new.questions("trained"):
        if q.drug not in old.drugs:
            out["new"].append(q)
        elif getattr(old.drugs[q.drug], q.attribute) != getattr(new.drugs[q.drug], q.attribute):
            out["changed"].append(q)
        else:
            out["unchanged"].append(q)
    return out


def changed_documents(old: World, new: World) -> dict[str, str]:
    """The leaflets of `new` that differ from `old`'s or are new, drug -> text: the whole update a
    retrieval system needs (Retriever.update)."""
    return {name: text for name, text in new.documents.items() if old.documents.get(name) != text}


def naming_words(worlds: list[World]) -> set[str]:
    """The lower-cased words that name things in the test worlds: drug names (unknown and real ones too),
    conditions, the first word of each maker ("Corvane"; "Pharma" is generic) and people's names."""
    words = set()
    for world in worlds:
        for drug in world.drugs.values():
            words.update([drug.name.lower(), drug.maker.split()[0].lower()])
            words.update(drug.treats.lower().split())
            words.update(drug.discoverer.lower().removeprefix("dr. ").split())
        words.update(n.lower() for key in NAME_LISTS.values() for n in world.templates[key])
    return words


# ---------------------------------------------------------------- questions from templates

def _fill(template: str, name: str) -> str:
    return template.format(drug=name, drug_lower=name.lower())


def _answer(drug: Drug, attr: str) -> tuple[str, tuple[str, ...]]:
    """Expected answer and accepted alternatives, in the form the leaflets use."""
    if attr == "max_daily_dose_mg":
        n = drug.max_daily_dose_mg
        return f"{n} mg", (f"{n}mg", f"{n} milligrams")
    if attr == "discoverer":
        return drug.discoverer, (drug.discoverer.removeprefix("Dr. "),)
    if attr == "maker":
        return drug.maker, (drug.maker.split()[0],)  # "Corvane" alone is unambiguous
    return str(getattr(drug, attr)), ()


def _ask(kind: str, template: str, drug: Drug, attr: str) -> Question:
    answer, aliases = _answer(drug, attr)
    return Question(kind, _fill(template, drug.name), answer, drug.name, attr, aliases)


# ---------------------------------------------------------------- reading and validation

def _read_drugs(path: Path) -> tuple[dict[str, Drug], dict[str, int]]:
    """Drugs by name in file order, plus the CSV line of each (for later error messages)."""
    drugs, lines, seen_names, seen_treats = {}, {}, {}, {}
    for line, rec in csv_records(path, COLUMNS, "drug"):
        for col in ("year_approved", "max_daily_dose_mg"):
            if not (rec[col].isascii() and rec[col].isdigit()) or int(rec[col]) <= 0:
                _fail(path, f"line {line}", f"{col} {rec[col]!r} is not a positive "
                      f"whole number; write e.g. 2011 or 40 (no unit)")
        if rec["status"] not in STATUSES:
            _fail(path, f"line {line}", f"unknown status {rec['status']!r}; "
                  f"use one of {', '.join(STATUSES)}")
        # Names and conditions must be unique (case-insensitive): leaflets are stored
        # as <drug lowercase>.md and "Which drug treats X?" needs exactly one answer.
        for value, seen, what in ((rec["drug"], seen_names, "drug"),
                                  (rec["treats"], seen_treats, "condition (treats)")):
            if value.lower() in seen:
                _fail(path, f"line {line}", f"duplicate {what} {value!r}, already on "
                      f"line {seen[value.lower()]}; each must appear once")
            seen[value.lower()] = line
        drug = Drug(rec["drug"], rec["treats"], rec["maker"], int(rec["year_approved"]),
                    int(rec["max_daily_dose_mg"]), rec["discoverer"], rec["status"])
        drugs[drug.name], lines[drug.name] = drug, line
    return drugs, lines


def _read_documents(doc_dir: Path, drugs: dict[str, Drug], lines: dict[str, int],
                    csv_path: Path) -> dict[str, str]:
    """One leaflet per drug, <drug lowercase>.md, starting with the line "# <Drug>"."""
    if not doc_dir.is_dir():
        _fail(doc_dir, "folder", "missing; it needs one <drug lowercase>.md leaflet per drug")
    files = {p.stem: p for p in sorted(doc_dir.glob("*.md"))}
    names = {name.lower(): name for name in drugs}
    for stem, path in files.items():
        if stem not in names:
            _fail(path, "line 1", f"no drug {stem!r} in {csv_path.name}; "
                  "delete this leaflet or add the drug")
    documents = {}
    for lower, name in names.items():
        if lower not in files:
            _fail(csv_path, f"line {lines[name]}",
                  f"drug {name!r} has no leaflet; create {doc_dir / (lower + '.md')}")
        text = read_text(files[lower])
        if not text.strip():
            _fail(files[lower], "line 1", f"the leaflet is empty; write '# {name}', then its text")
        if text.splitlines()[:1] != [f"# {name}"]:
            _fail(files[lower], "line 1", f"first line must be '# {name}'")
        if not without_heading(text):
            _fail(files[lower], "line 2", "the leaflet has only its heading; write its text below it "
                  "(retrieval would hand the reader an empty passage)")
        documents[name] = text
    disagreements = [f"  line {lines[name]}: {problem}" for name, drug in drugs.items()
                     for problem in _unstated(drug, documents[name], files[name.lower()].name)]
    if disagreements:
        raise DataError(f"{csv_path}: the CSV and the leaflets in {doc_dir.name}/ disagree (expected answers "
                        f"come from the CSV, retrieval reads the leaflets); state each fact in its leaflet "
                        f"as the CSV has it, or fix the CSV:\n" + "\n".join(disagreements))
    return documents


def _says(text: str, pattern: str) -> bool:
    return re.search(rf"(?<![\w,]){pattern}(?![\w])", " ".join(text.split()), re.IGNORECASE) is not None


def _unstated(drug: Drug, text: str, leaflet: str) -> list[str]:
    """The facts of `drug` (a CSV row) that its leaflet does not state, each as a sentence."""
    dose = drug.max_daily_dose_mg
    facts = {  # what the CSV says -> how a leaflet may state it
        ("treats", drug.treats): re.escape(drug.treats),
        ("maker", drug.maker): re.escape(drug.maker),
        ("year_approved", drug.year_approved): str(drug.year_approved),
        ("max_daily_dose_mg", f"{dose} mg"): f"(?:{dose}|{dose:,}) ?(?:mg|milligrams)",
        ("discoverer", drug.discoverer): f"(?:Dr\\.? )?{re.escape(drug.discoverer.removeprefix('Dr. '))}",
    }
    if drug.status == "withdrawn":
        facts["status", "withdrawn"] = "withdrawn"
    return [f"{drug.name}'s {column} is {value!r}, but {leaflet} never says {value!r}"
            for (column, value), pattern in facts.items() if not _says(text, pattern)]


def _read_templates(path: Path, drugs: dict[str, Drug], documents: dict[str, str],
                    leaflets: dict[str, Path]) -> dict:
    """Parse questions.json and check its shape, so a typo fails here and not mid-evaluation.

    documents: drug name -> leaflet text, and leaflets: drug name -> its file, to check that no leaflet
    states what an "unstated" question asks (the question would then be answerable)."""
    try:
        raw = read_text(path)
        spec = json.loads(raw)
    except FileNotFoundError:
        _fail(path, "file", "missing; it holds the question templates (copy it from data/world/)")
    except json.JSONDecodeError as e:
        line, column, problem = json_problem(raw, e)
        _fail(path, f"line {line}, column {column}", problem)

    def where(json_path, value=None):
        # JSON has no line numbers after parsing; find the offending string in the raw text.
        if isinstance(value, str) and json.dumps(value) in raw:
            return f"line {raw[:raw.index(json.dumps(value))].count(chr(10)) + 1} ({json_path})"
        return json_path

    def need(value, kind, json_path):
        if not isinstance(value, kind) or (kind in (str, list) and not value):
            _fail(path, where(json_path, value), f"expected a non-empty {kind.__name__}")
        return value

    def check_template(template, allowed, json_path):
        need(template, str, json_path)
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
        except ValueError as e:
            _fail(path, where(json_path, template), f"broken braces in template ({e})")
        unknown = fields - allowed
        if unknown or not fields & allowed:
            _fail(path, where(json_path, template), f"template uses placeholders {sorted(fields)}; "
                  f"it must use at least one of {sorted(allowed)} and nothing else")

    need(spec, dict, "$")
    for attr in TRAINED_ATTRIBUTES:
        section = need(spec.get(attr), dict, f"$.{attr}")
        check_template(section.get("trained"), DRUG_FIELDS, f"$.{attr}.trained")
        for key in ("augment", "paraphrase"):
            for i, t in enumerate(need(section.get(key), list, f"$.{attr}.{key}")):
                check_template(t, DRUG_FIELDS, f"$.{attr}.{key}[{i}]")
    for i, t in enumerate(need(spec.get("reversed"), list, "$.reversed")):
        check_template(t, REVERSED_FIELDS, f"$.reversed[{i}]")
    documented = need(spec.get("documented"), dict, "$.documented")
    for attr in DOCUMENTED_ATTRIBUTES:
        for i, t in enumerate(need(documented.get(attr), list, f"$.documented.{attr}")):
            check_template(t, DRUG_FIELDS, f"$.documented.{attr}[{i}]")
    known = {name.lower() for name in drugs}
    for i, name in enumerate(need(spec.get("unknown_drugs"), list, "$.unknown_drugs")):
        if need(name, str, f"$.unknown_drugs[{i}]").lower() in known:
            _fail(path, where(f"$.unknown_drugs[{i}]", name),
                  f"{name!r} is a drug of the world; unknown drugs must be invented names")
    invented = {name.lower() for name in spec["unknown_drugs"]}
    for i, name in enumerate(need(spec.get("real_drugs"), list, "$.real_drugs")):
        if need(name, str, f"$.real_drugs[{i}]").lower() in known:
            _fail(path, where(f"$.real_drugs[{i}]", name), f"{name!r} is a drug of the world; real_drugs are "
                  f"real medicines the formulary lacks: remove it or pick another")
        if name.lower() in invented:
            _fail(path, where(f"$.real_drugs[{i}]", name), f"{name!r} is also in unknown_drugs; a name is "
                  f"either invented (unknown_drugs) or a real medicine (real_drugs): keep it in one list")
    for i, item in enumerate(need(spec.get("unstated"), list, "$.unstated")):
        need(item, dict, f"$.unstated[{i}]")
        attribute = " ".join(need(item.get("attribute"), str, f"$.unstated[{i}].attribute").split())
        need(attribute, str, f"$.unstated[{i}].attribute")  # only spaces would match every leaflet
        check_template(item.get("question"), DRUG_FIELDS, f"$.unstated[{i}].question")
        for name, text in documents.items():
            if _says(text, re.escape(attribute)):
                _fail(path, where(f"$.unstated[{i}].attribute", item["attribute"]),
                      f"the leaflet {leaflets[name]} mentions {attribute!r}, so the question would then be "
                      f"answerable; ask about an attribute no leaflet states, or take the word out of the leaflet")
    for i, item in enumerate(need(spec.get("control"), list, "$.control")):
        need(item, dict, f"$.control[{i}]")
        need(item.get("question"), str, f"$.control[{i}].question")
        need(item.get("answer"), str, f"$.control[{i}].answer")
        if "aliases" in item:
            for j, alias in enumerate(need(item["aliases"], list, f"$.control[{i}].aliases")):
                need(alias, str, f"$.control[{i}].aliases[{j}]")
    return spec
