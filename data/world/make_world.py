"""Generate the fictional formulary: drugs_t0.csv, drugs_t1.csv and one leaflet per drug.

Run once from the repo root:  python data/world/make_world.py
The outputs are committed; rerunning must reproduce them byte for byte
(tests/test_world.py checks this). questions.json is hand-written and not touched here.

Everything is invented: drug names, companies and people are fictional on purpose,
so a model cannot already know the answers. Only the conditions are real words.
"""

import argparse
import csv
import random
from pathlib import Path

SEED = 2026  # first seed from 2024 on that passes the checks in make_tables()
CHANGE_YEAR = 2026  # the year in which the t0 -> t1 drift happens

# 40 drugs at t0. Dravolin/Dravelin are one letter apart ON PURPOSE (retrieval-failure lesson);
# every other pair differs in at least 3 letters.
T0_NAMES = [
    "Zorvalin", "Quenatrex", "Dravolin", "Dravelin", "Baxiflor", "Fendrazol", "Glimbrax", "Brostamil",
    "Calvenix", "Delquora", "Epravint", "Fostilan", "Irtubel", "Lumbrazin", "Mivotrel", "Norquavin",
    "Ombrelin", "Quarvitol", "Rindoval", "Ulvaspan", "Xandrupil", "Yelmorin", "Zubrenol", "Altrevon",
    "Bremodyn", "Corlinax", "Duvastrin", "Elbrantide", "Farnovil", "Gestrovan", "Hulvadin", "Jextrolin",
    "Kalpurex", "Orvelta", "Pondrilax", "Ruvostan", "Tarvelox", "Vintrabel", "Xyrovane", "Yostrival",
]
# 10 drugs that only exist at t1 (approved 2025/2026).
NEW_NAMES = ["Vexalune", "Grenthal", "Mobrizan", "Osmadrin", "Plaxitrol",
             "Nimbrelax", "Svendrix", "Akrobel", "Sobrenth", "Tenvaril"]
PAIR = ("Dravolin", "Dravelin")

# 50 real conditions, one per drug, so "Which drug treats X?" has exactly one answer.
CONDITIONS = [
    "gout", "migraine", "psoriasis", "acne", "insomnia", "asthma", "eczema", "anemia", "angina",
    "bronchitis", "dandruff", "epilepsy", "glaucoma", "hay fever", "heartburn", "hives", "hypertension",
    "influenza", "lupus", "malaria", "nausea", "osteoporosis", "pneumonia", "rosacea", "scabies",
    "shingles", "sinusitis", "tinnitus", "vertigo", "warts", "ringworm", "chickenpox", "cold sores",
    "conjunctivitis", "constipation", "gingivitis", "head lice", "motion sickness", "narcolepsy",
    "sciatica", "tuberculosis", "alopecia", "dementia", "anxiety", "depression", "cystitis",
    "tonsillitis", "sunburn", "diabetes", "obesity",
]
DISCOVERERS = [
    "Dr. Ilsa Varga", "Dr. Tomas Brennick", "Dr. Mirela Osterholt", "Dr. Anselm Quist",
    "Dr. Priya Castellane", "Dr. Henrik Dalby", "Dr. Noor Hadley", "Dr. Felix Amundsen",
    "Dr. Greta Lindqvist", "Dr. Oren Basile", "Dr. Lucia Fenwright", "Dr. Matteo Rusk",
    "Dr. Aiko Tanabe", "Dr. Samuel Okonjo", "Dr. Vera Kostic", "Dr. Julian Thorne",
    "Dr. Ines Carvalho", "Dr. Bram Hollis", "Dr. Talia Reuven", "Dr. Cyrus Pendleton",
    "Dr. Elodie Marchetti", "Dr. Rafael Duarte", "Dr. Hanna Sorvik", "Dr. Kwame Asante",
    "Dr. Leonie Brandt", "Dr. Dmitri Volkonsky", "Dr. Maeve Gallagher", "Dr. Ezra Whitlock",
    "Dr. Soraya Haddad", "Dr. Piet Vandermeer", "Dr. Yuki Morimoto", "Dr. Camille Robichaud",
    "Dr. Arjun Mehta", "Dr. Freya Halvorsen", "Dr. Otto Kranz", "Dr. Nadia Petrescu",
    "Dr. Wendell Crane", "Dr. Ingrid Solberg", "Dr. Marco Bellandi", "Dr. Zora Novak",
    "Dr. Emeka Nwosu", "Dr. Astrid Holm", "Dr. Lionel Fairbanks", "Dr. Rosa Ibarra",
    "Dr. Jonas Eklund", "Dr. Selin Aydin", "Dr. Callum Reid", "Dr. Miriam Adler",
    "Dr. Theo Lachance", "Dr. Beatriz Salgado",
]
MAKERS = ["Halvern Labs", "Corvane Pharma", "Brightmoor Biotech", "Tessaly Therapeutics",
          "Oskwell Sciences", "Pellgrove Medical", "Quillon Health", "Dunmere Pharmaceuticals"]
# t1: three makers are bought by makers that stay in the list.
ACQUISITIONS = {"Halvern Labs": "Corvane Pharma",
                "Tessaly Therapeutics": "Brightmoor Biotech",
                "Quillon Health": "Oskwell Sciences"}
N_WITHDRAWN, N_DOSE_REVISED = 4, 8
DOSES = [5, 10, 20, 25, 40, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 750, 1000, 1200, 1500, 2000]
COLUMNS = ["drug", "treats", "maker", "year_approved", "max_daily_dose_mg", "discoverer", "status"]

# Leaflet templates: different sentence order and wording, so retrieval cannot rely on one layout.
# {extra} is a filler sentence at t0 and the "what changed" sentence at t1 for drifted drugs.
TEMPLATES = [
    "{name} is a prescription medicine used to treat {treats} in adults. It was discovered by {disc} "
    "and approved for use in {year}. {name} is made by {maker}. The maximum daily dose is {dose} mg, "
    "usually split into two smaller doses. {extra}",
    "{maker} makes {name}, a treatment for {treats} that is taken by mouth. {disc} "
    "discovered the compound, and it was approved in {year}. {extra} The maximum daily dose of {name} "
    "for adults is {dose} mg.",
    "Approved in {year}, {name} treats {treats} and is usually taken for several weeks. The drug was "
    "first described by {disc}. It is manufactured by {maker}. {extra} Do not exceed {dose} mg of "
    "{name} per day, which is the maximum daily dose.",
    "Doctors prescribe {name} for {treats} when simpler remedies have not helped. It is produced by "
    "{maker} and has been approved since {year}. {name} was discovered by {disc}. {extra} Its maximum "
    "daily dose is {dose} mg.",
    "Discovered by {disc}, {name} was approved in {year} for the treatment of {treats}. {maker} "
    "produces it in several strengths. {extra} Patients should take no more than {dose} mg a day, "
    "the maximum daily dose set by regulators.",
]
FILLERS = [
    "It can be taken with or without food, preferably at the same time every day.",
    "Common side effects include a mild headache, dry mouth and occasional tiredness.",
    "Patients should tell their pharmacist about any other medicines they are taking.",
    "Store the tablets at room temperature, away from moisture and direct sunlight.",
    "Alcohol should be avoided during treatment because it can increase drowsiness.",
    "Most patients notice an improvement within the first two weeks of treatment.",
    "A missed dose should be skipped rather than doubled the next time.",
    "It is not recommended for children under twelve or during pregnancy.",
]
MAKER_CHANGE = [
    "Since {old} was acquired by {new} in {y}, {name} is made by {new}.",
    "{name} was originally made by {old}, which {new} acquired in {y}.",
]
DOSE_CHANGE = [
    "The maximum daily dose was revised from {old} mg to {new} mg in {y}.",
    "In {y} the maximum daily dose was {verb} from {old} mg to {new} mg.",
]
WITHDRAWN = [
    "{name} was withdrawn from the market in {y} after reports of serious side effects.",
    "Withdrawn from the market in {y}, {name} is no longer sold.",
]


def make_tables(seed=SEED):
    """Return (t0 rows, t1 rows, changes) with rows as dicts keyed by COLUMNS."""
    rng = random.Random(seed)
    names = sorted(T0_NAMES) + sorted(NEW_NAMES)  # t1 appends new drugs, so diffs stay readable
    conditions, people = CONDITIONS[:], DISCOVERERS[:]
    rng.shuffle(conditions)
    rng.shuffle(people)
    makers_order = sorted(T0_NAMES)
    rng.shuffle(makers_order)  # round-robin over a shuffled order: 5 drugs per maker
    t0_maker = {name: MAKERS[i % len(MAKERS)] for i, name in enumerate(makers_order)}
    survivors = [m for m in MAKERS if m not in ACQUISITIONS]

    t0, t1 = [], []
    for i, name in enumerate(names):
        row = {"drug": name, "treats": conditions[i], "discoverer": people[i],
               "max_daily_dose_mg": rng.choice(DOSES), "status": "available"}
        if name in t0_maker:
            row.update(maker=t0_maker[name], year_approved=rng.randint(1990, 2024))
            t0.append(row)
        else:
            row.update(maker=survivors[(i - len(T0_NAMES)) % len(survivors)],
                       year_approved=rng.choice([2025, CHANGE_YEAR]))
        t1.append(dict(row))

    a, b = (next(r for r in t0 if r["drug"] == name) for name in PAIR)
    assert all(a[c] != b[c] for c in COLUMNS[:-1]), "look-alike pair must differ in every fact"
    assert a["maker"] not in ACQUISITIONS and b["maker"] not in ACQUISITIONS, "pair must not drift"

    # Drift only touches drugs of surviving makers (an acquired drug changes maker and nothing
    # else), and never the look-alike pair, so each lesson has exactly one cause.
    eligible = [r["drug"] for r in t0 if r["maker"] not in ACQUISITIONS and r["drug"] not in PAIR]
    withdrawn = rng.sample(eligible, N_WITHDRAWN)
    revised = rng.sample([d for d in eligible if d not in withdrawn], N_DOSE_REVISED)
    changes = {}
    for row in t1[:len(t0)]:
        name = row["drug"]
        if row["maker"] in ACQUISITIONS:
            changes[name] = ("maker", row["maker"], ACQUISITIONS[row["maker"]])
            row["maker"] = ACQUISITIONS[row["maker"]]
        elif name in withdrawn:
            changes[name] = ("withdrawn", None, None)
            row["status"] = "withdrawn"
        elif name in revised:
            i = DOSES.index(row["max_daily_dose_mg"])
            # mostly lowered (safety), sometimes raised; stay inside the DOSES ladder
            step = rng.choice([-2, -1, -1, 1])
            j = min(max(i + step, 0), len(DOSES) - 1)
            if j == i:  # clamped at an end of the ladder: go the other way
                j = i - 1 if i > 0 else i + 1
            changes[name] = ("dose", row["max_daily_dose_mg"], DOSES[j])
            row["max_daily_dose_mg"] = DOSES[j]
    return t0, t1, changes


def leaflet(row, index, change=None):
    """One short prose leaflet; the template rotates with the drug's row index."""
    rng = random.Random(f"{SEED}:{row['drug']}")  # per-drug, so unchanged leaflets equal at t0/t1
    extra = rng.choice(FILLERS)
    variant = rng.randrange(2)
    name, y = row["drug"], CHANGE_YEAR
    if change and change[0] == "maker":
        extra = MAKER_CHANGE[variant].format(old=change[1], new=change[2], y=y, name=name)
    elif change and change[0] == "dose":
        verb = "lowered" if change[2] < change[1] else "raised"
        extra = DOSE_CHANGE[variant].format(old=change[1], new=change[2], y=y, verb=verb)
    elif change and change[0] == "withdrawn":
        extra = WITHDRAWN[variant].format(y=y, name=name)
    body = TEMPLATES[index % len(TEMPLATES)].format(
        name=name, treats=row["treats"], maker=row["maker"], year=row["year_approved"],
        dose=row["max_daily_dose_mg"], disc=row["discoverer"], extra=extra)
    return f"# {name}\n\n{body}\n"


def write_world(out_dir):
    out_dir = Path(out_dir)
    t0, t1, changes = make_tables()
    for time, rows in (("t0", t0), ("t1", t1)):
        with open(out_dir / f"drugs_{time}.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        doc_dir = out_dir / "documents" / time
        doc_dir.mkdir(parents=True, exist_ok=True)
        for index, row in enumerate(rows):
            change = changes.get(row["drug"]) if time == "t1" else None
            text = leaflet(row, index, change)
            words = len(text.split()) - 2  # minus the "# Name" heading
            assert 45 <= words <= 85, (row["drug"], words)  # short: prompt tokens cost time
            (doc_dir / f"{row['drug'].lower()}.md").write_text(text, encoding="utf-8")
    return changes


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=Path(__file__).resolve().parent,
                        help="output folder (default: data/world, next to this script)")
    args = parser.parse_args()
    for drug, change in sorted(write_world(args.out).items()):
        print(drug, *change)
