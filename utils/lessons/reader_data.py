"""The reader adapter's training data: synthetic leaflets, and questions about them, that teach a
small model the behaviour "answer from the passage".

The reader adapter (utils/lessons/recipes.reader_tuned_model) is trained on leaflets about invented
drugs, makers, people and conditions that are *disjoint* from the world in data/world/ (the idea of
RAFT, Zhang et al. 2024): whatever it learns there, it cannot be a fact of the test world. The
leaflets follow the style of data/world/documents but with their own wording, and so do the
questions, so every question template the notebooks test with stays unseen.

The questions are composed, so that the reader learns to read any wording and not a few phrasings:
for each attribute (and the reversed question, condition -> drug) 8 question cores (the maker 13)
x 13 openers ("", "Quick question: ", "Can you tell me ", "My pharmacist asked me this: "...) x 8 closers
("?", "? Thanks.", " - do you know?"...), 832 frames (the maker 1,352), plus 3 telegraphic forms
("X maker?", "X: mg per day, max?"), asked in 15 % of the questions; 10 % of the questions are written
all in lower case. Each part is drawn with the seeded rng of reader_examples (see _ask and
question_frames). None of these frames contains a hand-written held-out or dev wording
(data/world/heldout_wordings.json, dev_wordings.json), nor is contained in one (tests/test_heldout_wordings.py).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from utils.tasks.world import UNKNOWN, World, naming_words

# Parts of invented names; generated names that are, or sound like, names of the test world are
# rejected in synthetic_drugs().
_NAME_START = ["Bel", "Cor", "Dax", "Fen", "Gal", "Hex", "Jor", "Kel", "Lom", "Mar", "Nev", "Pax",
               "Qui", "Ros", "Sal", "Tam", "Vor", "Wen", "Yal", "Zep", "Trel", "Osk", "Ulm", "Ember"]
_NAME_MIDDLE = ["a", "e", "i", "o", "u", "ar", "en", "or", "ul", "ith", "uu", "ae"]
_NAME_END = ["dine", "mab", "tor", "zole", "pril", "stat", "vex", "nide", "rex", "lam", "fen",
             "sart", "quil", "tane", "bix", "morin", "drel", "vant"]
_MAKER_FIRST = ["Arden", "Bellmont", "Calder", "Dovetail", "Esker", "Fairholm", "Garnet", "Hollin",
                "Ivers", "Juniper", "Kestrel", "Larkspur", "Marrow", "Northam", "Ostrava", "Penrith"]
_MAKER_SECOND = ["Pharma", "Labs", "Biotech", "Therapeutics", "Health", "Medical", "Sciences",
                 "Biologics"]
_FIRST = ["Alma", "Bruno", "Clara", "Dario", "Edda", "Fabian", "Gita", "Hugo", "Irene", "Jakob",
          "Kira", "Lars", "Mila", "Nils", "Oona", "Pavel", "Runa", "Stefan", "Tilde", "Umar"]
_LAST = ["Abernethy", "Bergstrom", "Coelho", "Dunlevy", "Eskildsen", "Ferrante", "Grozny",
         "Hoffmeyer", "Iwasaki", "Jablonski", "Kowalczyk", "Lindgren", "Moreau", "Nakashima",
         "Oyelaran", "Pietrzak", "Quaresma", "Rautio", "Szabo", "Trevisan"]
# Real conditions that the test world does not use (checked in synthetic_drugs()).
_CONDITIONS = ["arthritis", "bursitis", "colitis", "gastritis", "laryngitis", "dermatitis",
               "cellulitis", "impetigo", "halitosis", "measles", "mumps", "rickets", "scurvy",
               "tetanus", "jaundice", "gallstones", "kidney stones", "hiccups", "tendinitis",
               "restless legs", "frostbite", "athlete's foot", "croup", "whooping cough",
               "sleep apnea", "heat rash", "nosebleeds", "canker sores", "earache", "toothache",
               "back pain", "leg cramps", "altitude sickness", "dry eye", "chilblains", "bunions",
               "night sweats", "shin splints", "bedsores", "gum boils", "pleurisy", "sprains", "styes",
               "blisters", "bruising", "chapped lips", "cold feet", "snoring", "jet lag", "hangnails",
               "bulimia", "rheumatism", "lumbago", "neuralgia", "fibromyalgia", "hemorrhoids", "varicose veins",
               "sunstroke", "heatstroke", "hypothermia", "dehydration", "indigestion", "flatulence", "diarrhea",
               "cholera", "typhoid", "dysentery", "rabies", "polio", "diphtheria", "rubella", "smallpox",
               "leprosy", "pink eye", "cataracts", "myopia", "astigmatism", "nail fungus", "corns", "calluses",
               "ingrown toenails", "carpal tunnel syndrome", "tennis elbow", "frozen shoulder", "whiplash",
               "concussion", "hernia", "appendicitis", "pancreatitis", "hepatitis", "nephritis", "meningitis",
               "encephalitis", "endometriosis", "prostatitis", "urticaria", "vitiligo", "hypothyroidism",
               "hyperthyroidism", "emphysema", "sleepwalking", "stuttering", "gastroenteritis", "tendon strain",
               "mouth ulcers"]
_DOSES = [5, 10, 20, 25, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 750, 1000, 1200, 1500, 2000]

# Same kind of prose as data/world/documents, worded differently.
_TEMPLATES = [
    "{name} is a tablet for adults with {treats}. {disc} discovered it, and regulators approved it "
    "in {year}. The company {maker} makes {name}. {extra} No more than {dose} mg should be taken in "
    "one day.",
    "Made by {maker}, {name} is prescribed for {treats}. It was approved in {year} after {disc} "
    "discovered it. {extra} The maximum daily dose of {name} is {dose} mg.",
    "{name} was discovered by {disc} and has been on the market since {year}. It treats {treats} "
    "and is manufactured by {maker}. {extra} Adults may take up to {dose} mg per day.",
    "For {treats}, doctors may choose {name}, a medicine produced by {maker}. {extra} It was "
    "approved in {year}; the discoverer was {disc}. The daily maximum is {dose} mg.",
    # The maker and the discoverer side by side, each the subject of its verb: only the question
    # says which name to copy.
    "{maker} makes {name}, which doctors prescribe for {treats}. {disc} found the "
    "molecule, and approval followed in {year}. {extra} The highest daily dose is {dose} mg.",
    "{name} treats {treats}. {disc} discovered it, {maker} produces it, and it has been approved "
    "since {year}. {extra} Do not exceed {dose} mg a day.",
    # The maker as the subject of "... it", in a sentence of its own after the discoverer's: the
    # layout the reader got wrong most often (it copied the discoverer, or the next sentence's start).
    "First isolated by {disc}, {name} has been approved since {year} as a treatment for {treats}. "
    "{maker} manufactures it as tablets. {extra} Never take more than {dose} mg in a day.",
    "Patients with {treats} are often given {name}. It was identified by {disc} and approved in "
    "{year}. {maker} supplies it to pharmacies. {extra} A day's dose must not go above {dose} mg.",
]
# Sentences that name no fact asked about. Several open with a capitalised noun ("Doctors ...",
# "Pharmacists ..."), as many real leaflets do: the reader must learn not to copy such a word as
# the maker.
_FILLERS = [
    "Take it with a full glass of water.",
    "Some patients feel dizzy during the first days.",
    "Keep the pack out of the reach of children.",
    "Grapefruit juice can change how well it works.",
    "Tell your doctor if you have kidney problems.",
    "Doctors may lower the dose for older patients.",
    "Pharmacists can advise on taking it with other medicines.",
    "Nurses often recommend taking it in the evening.",
    "Mild nausea and a dry throat are the usual complaints.",
    "Blister packs should be kept below 25 degrees.",
]
# What changed, in the way the t1 leaflets report it (worded differently): the answer is the new value.
_MAKER_CHANGES = ["{name} used to be sold by {old}; since {y} it has been made by {new}.",
                  "{new} took over {old} in {y} and has made {name} ever since.",
                  "{name} was first made by {old}, a company that {new} bought in {y}."]
_DOSE_CHANGES = ["In {y} the daily limit was changed from {old} mg to {new} mg.",
                 "Until {y} the maximum was {old} mg a day; it is now {new} mg."]

# The questions, composed (see _ask): an opener, a question core and a closer, or a telegraphic form;
# sometimes all in lower case. A reader trained on a handful of fixed phrasings learns those phrasings;
# composed wordings teach it to read any question. Written for this generator, not tuned on any test:
# no core is a template of data/world/questions.json, and tests/test_heldout_wordings.py checks that no
# frame contains, or is contained in, a sealed held-out wording (data/world/heldout_wordings.json).
# Cores: the question without its final "?" ({name}: the drug; {treats}: the condition).
_CORES = {
    "treats": ["What is {name} taken for", "{name} is given to patients with which condition",
               "Which condition is {name} for", "For what illness would a doctor prescribe {name}",
               "What does {name} help with", "Which disease is {name} used against",
               "What do patients take {name} for", "{name} is prescribed for what condition"],
    # The maker's cores ask with a "make" verb too ("Which firm makes", "Who is {name} made by"; not "Which
    # company makes", a world template): without one, most "Who ..." questions are about the discoverer,
    # and the reader answers "Who makes X?" with the discoverer.
    "maker": ["Which company produces {name}", "Who is the manufacturer of {name}", "{name} comes from which company",
              "Who sells {name}", "Who is the maker of {name}", "Which firm manufactures {name}",
              "Name the producer of {name}", "What is the name of the company that supplies {name}",
              "Who produces {name}", "Which corporation markets {name}", "{name} is a product of which business",
              "Who is {name} made by", "Which firm makes {name}"],
    "reversed": ["Which medicine is used for {treats}", "What should a patient with {treats} take",
                 "What is prescribed against {treats}", "Which tablet do doctors give for {treats}",
                 "Name a treatment for {treats}", "What drug is there for {treats}",
                 "Which drug helps with {treats}", "What can I take for {treats}"],
    "max_daily_dose_mg": ["How many mg of {name} can be taken in one day at most", "What is the daily limit for {name}",
                          "The max dose of {name} per day", "What is the highest dose of {name} allowed per day",
                          "How much {name} may an adult take in a day",
                          "What daily dose of {name} should not be exceeded",
                          "How many milligrams of {name} is the most for one day",
                          "What is the maximum amount of {name} per day"],
    "year_approved": ["Which year did {name} get approved", "Since when is {name} approved",
                      "When did {name} get its approval", "In which year was {name} first approved",
                      "What is the approval year of {name}", "What year did the regulators approve {name}",
                      "The approval of {name} came in which year", "Which year was {name} licensed"],
    "discoverer": ["Who first described {name}", "Who found {name}", "Name the discoverer of {name}",
                   "Who was the first to describe {name}", "Who made the discovery of {name}",
                   "Which scientist found {name}", "Who identified {name}", "By whom was {name} discovered"],
}
# Openers: (text, how the core follows it): "" as it is, "lower" starting in lower case (after a comma),
# "embed" as a question inside a sentence ("Can you tell me the producer of X?": lower case, and an
# imperative "Name ..." loses its verb).
OPENERS = [("", ""), ("Quick question: ", ""), ("Can you tell me ", "embed"), ("Do you know ", "embed"),
            ("I was wondering: ", ""), ("Hi! ", ""), ("Hello, ", "lower"), ("My pharmacist asked me this: ", ""),
            ("Please tell me: ", ""), ("One more question: ", ""), ("Sorry, ", "lower"),
            ("According to the leaflet, ", "lower"), ("Help me out here: ", "")]
CLOSERS = ["?", "? Thanks.", "? Thank you!", " - do you know?", "??", "? Short answer, please.",
            "? I need it for a form.", " please?"]
# Telegraphic forms, asked as they are.
_TELEGRAPHIC = {
    "treats": ["{name} - what for?", "{name}: treats what?", "use of {name}?"],
    "maker": ["{name} maker?", "{name}: made by?", "maker of {name}?"],
    "reversed": ["{treats}: which drug?", "drug for {treats}?", "{treats} - medicine?"],
    "max_daily_dose_mg": ["{name}: mg per day, max?", "max mg/day {name}?", "{name} - most mg in a day?"],
    "year_approved": ["{name} approved when?", "approval year, {name}?", "{name}: year of approval?"],
    "discoverer": ["{name} discovered by?", "discoverer of {name}?", "{name}: who found it?"],
}
# Attributes whose answers look alike in a leaflet, for reader_examples' `contrast`: two names (the
# maker, the discoverer), two numbers (the daily dose, the approval year).
CONTRASTS = {"names": ("maker", "discoverer"), "numbers": ("max_daily_dose_mg", "year_approved")}
TELEGRAPHIC_SHARE = 0.15  # of the questions asked in a telegraphic form
LOWER_CASE_SHARE = 0.1  # of the questions written all in lower case, the name too


def compose_question(opener: tuple[str, str], core: str, closer: str) -> str:
    text, follow = opener
    if follow == "embed":
        core = core.removeprefix("Name ")
    if follow and not core.startswith("{"):
        core = core[0].lower() + core[1:]
    return text + core + closer


def question_frames(attribute: str) -> list[str]:
    """Every frame _ask can choose for `attribute` ({name} or {treats} still to fill in), before it is
    sometimes written in lower case: each core with each opener and closer, then the telegraphic forms."""
    return ([compose_question(o, core, c) for core in _CORES[attribute] for o in OPENERS for c in CLOSERS]
            + _TELEGRAPHIC[attribute])


@dataclass(frozen=True)
class Example:
    passage: str  # a leaflet, heading included, as the retriever returns it
    question: str
    answer: str  # "unknown" when the passage does not say


def _near(name: str, words: set[str]) -> bool:
    """Is `name` a test-world word, or one that looks like one (same first four and last two letters)?"""
    name = name.lower()
    return any(w == name or (w[:4] == name[:4] and w[-2:] == name[-2:]) for w in words)


# Some generated names are rejected as too near a test-world word: asking for more than half of the
# possible names could take forever.
MAX_SYNTHETIC_DRUGS = len(_NAME_START) * len(_NAME_MIDDLE) * len(_NAME_END) // 2


def synthetic_drugs(n: int, worlds: list[World], seed: int = 0) -> list[dict]:
    """n invented drugs whose names, makers, people and conditions are not those of `worlds`.
    Names are unique; conditions repeat once every free condition is taken (a leaflet is read on its
    own, so two leaflets may treat the same thing)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_SYNTHETIC_DRUGS:
        raise ValueError(f"ask for 2 to {MAX_SYNTHETIC_DRUGS} invented drugs (add name parts to "
                         f"_NAME_START for more); got {n!r}")
    rng = random.Random(seed)
    taken = naming_words(worlds)
    leaflets = " ".join(text.lower() for world in worlds for text in world.documents.values())
    conditions = [c for c in _CONDITIONS if not set(c.split()) & taken and c not in leaflets]
    if not conditions:
        raise ValueError("your world uses every condition the reader's leaflets could treat: add conditions "
                         "to _CONDITIONS in utils/lessons/reader_data.py")
    rng.shuffle(conditions)
    makers = [m for m in _MAKER_FIRST if m.lower() not in taken]
    first = [f for f in _FIRST if f.lower() not in taken]
    last = [f for f in _LAST if f.lower() not in taken]
    names: set[str] = set()
    drugs = []
    while len(drugs) < n:
        name = rng.choice(_NAME_START) + rng.choice(_NAME_MIDDLE) + rng.choice(_NAME_END)
        if name in names or _near(name, taken):
            continue
        names.add(name)
        drugs.append({"name": name, "treats": conditions[len(drugs) % len(conditions)],
                      "maker": f"{rng.choice(makers)} {rng.choice(_MAKER_SECOND)}",
                      "year_approved": rng.randint(1985, 2024),
                      "max_daily_dose_mg": rng.choice(_DOSES),
                      "discoverer": f"Dr. {rng.choice(first)} {rng.choice(last)}"})
    return drugs


def synthetic_leaflet(drug: dict, rng: random.Random, change: tuple | None = None) -> str:
    """A leaflet like data/world/documents: heading, then one paragraph. `change` is
    ("maker", old) or ("max_daily_dose_mg", old): the leaflet says what the value was before."""
    extra = rng.choice(_FILLERS)
    if change:
        attribute, old = change
        sentences = _MAKER_CHANGES if attribute == "maker" else _DOSE_CHANGES
        extra = rng.choice(sentences).format(name=drug["name"], old=old, new=drug[attribute],
                                             y=rng.randint(2020, 2026))
    body = rng.choice(_TEMPLATES).format(
        name=drug["name"], treats=drug["treats"], maker=drug["maker"], year=drug["year_approved"],
        dose=drug["max_daily_dose_mg"], disc=drug["discoverer"], extra=extra)
    return f"# {drug['name']}\n\n{body}\n"


def _answer(drug: dict, attribute: str) -> str:
    """In the form the test world's answers take (see utils.tasks.world._answer)."""
    if attribute == "reversed":
        return drug["name"]
    if attribute == "max_daily_dose_mg":
        return f"{drug['max_daily_dose_mg']} mg"
    return str(drug[attribute])


def _ask(drug: dict, attribute: str, rng: random.Random) -> str:
    """A question about `attribute` of `drug` in a wording drawn from question_frames: a telegraphic form
    (TELEGRAPHIC_SHARE of them), else an opener, a core and a closer, each drawn uniformly; then
    LOWER_CASE_SHARE of the questions in lower case."""
    if rng.random() < TELEGRAPHIC_SHARE:
        frame = rng.choice(_TELEGRAPHIC[attribute])
    else:
        frame = compose_question(rng.choice(OPENERS), rng.choice(_CORES[attribute]), rng.choice(CLOSERS))
    text = frame.format(name=drug["name"], treats=drug["treats"])
    return text.lower() if rng.random() < LOWER_CASE_SHARE else text


def reader_examples(worlds: list[World], n_drugs: int = 176, per_drug: int = 2,
                    unanswerable: float = 0.25, contrast: tuple[str, ...] = ("names", "numbers"),
                    seed: int = 0) -> list[Example]:
    """Training examples for the reader: for each invented drug, its leaflet with `per_drug`
    questions it answers, and with probability `unanswerable` one it does not (about another
    invented drug, or a condition it does not treat), whose answer is "unknown".

    Half the leaflets say a fact changed (the maker, twice as often as the dose), and are asked
    about it: the answer is the current value, the behaviour the t1 leaflets need.

    contrast: names of CONTRASTS, pairs of attributes whose answers look alike in a leaflet; a leaflet
    asked one of a pair is also asked the other ("names": asked who makes the drug, it is also asked who
    discovered it, and the other way round: both answers are names in the same passage, and only the
    question tells them apart; "numbers": the daily dose and the approval year, so that a dose question
    is not answered with a year-like number).
    """
    if unknown := [c for c in contrast if c not in CONTRASTS]:
        raise ValueError(f"unknown contrast {unknown[0]!r}; the contrasts are {', '.join(CONTRASTS)}")
    rng = random.Random(seed)
    drugs = synthetic_drugs(n_drugs, worlds, seed)
    attributes = list(_CORES)
    conditions = {d["treats"] for d in drugs}
    examples = []
    for i, drug in enumerate(drugs):
        asked = rng.sample(attributes, per_drug)
        change = None
        if i % 2 == 1:
            other = drugs[(i + 1) % len(drugs)]
            attribute = rng.choice(["maker", "maker", "max_daily_dose_mg"])
            change = (attribute, other["maker"] if attribute == "maker" else rng.choice(
                [d for d in _DOSES if d != drug["max_daily_dose_mg"]]))
            asked = [attribute] + [a for a in asked if a != attribute][:per_drug - 1]
        for pair in (CONTRASTS[c] for c in contrast):
            for one, other in (pair, pair[::-1]):
                if one in asked and other not in asked:
                    asked.append(other)
        leaflet = synthetic_leaflet(drug, rng, change)
        for attribute in asked:
            examples.append(Example(leaflet, _ask(drug, attribute, rng), _answer(drug, attribute)))
        if rng.random() < unanswerable and len(conditions) > 1:
            # Another drug's name or condition: the passage is about something else. Not a drug that
            # treats this leaflet's condition (conditions repeat when there are many drugs): its
            # reversed question would be answerable here; with one condition for all, none is asked.
            while True:
                other = drugs[(i + rng.randrange(1, len(drugs))) % len(drugs)]
                if other["treats"] != drug["treats"]:
                    break
            examples.append(Example(leaflet, _ask(other, rng.choice(attributes), rng), UNKNOWN))
    return examples
