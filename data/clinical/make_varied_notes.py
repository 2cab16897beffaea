"""Write notes_varied.jsonl: training notes in the ways clinicians really write, for the XML adapter.

    python data/clinical/make_varied_notes.py   # rewrite notes_varied.jsonl next to this file

notes.jsonl names a one-word condition after a few fixed markers; on the outside dev notes
(data/outside/) the adapter keeps one word of a multi-word condition, copies an abbreviation as it is,
and reads a clock time or a saturation as the age. These notes vary exactly that, written by seeded
templates about invented patients:

- conditions of many words, some hyphenated, none of them an outside set's nor one of notes.jsonl's
  (tests/test_varied_notes.py checks), so that the outside and unseen-style scores stay fair;
- the condition often written only as its abbreviation ("DVT"), the answer then the name in full
  ("deep vein thrombosis"), by the outside notes' naming rule (data/outside/README.md): modifiers
  such as "L" or "R" left out, apostrophes dropped (Crohn's disease -> crohns disease);
- the condition after "Impression:", "Imp:", "Assessment -", "A/P", "Dx:", "Dx" or no marker at all,
  first, in the middle or last;
- other conditions in the history (PMH, FHx, "known"), never the answer;
- shorthand ("pt", "c/o", "y/o", "O/E", "2/7") and numbers beside the age: clock times, saturations,
  blood pressures, temperatures, durations (the age is the only number equal to it).

Every note states its severity in words, once; every gold diagnosis passes the schema check.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import NamedTuple

from utils.tasks.clinical import _expected  # the schema check of a gold diagnosis, with its messages

SEED = 36
N_NOTES = 240
OUT = Path(__file__).with_name("notes_varied.jsonl")
STYLE = "varied"
ID_PREFIX = "v"
MAX_WORDS = 60  # every token costs training time on a CPU


class Condition(NamedTuple):
    abbreviations: tuple[str, ...]  # what a note may write instead of the name
    ages: tuple[int, int]
    sex: str | None  # None: either
    symptoms: tuple[str, ...]
    lateral: bool = False  # a note may say the side ("L", "R"), which the answer leaves out
    written: str | None = None  # the name as a note spells it, when the answer's differs (rule 4)


# The answer -> how notes name and present it. Symptoms name no condition and no severity.
CONDITIONS = {
    "deep vein thrombosis": Condition(("DVT",), (25, 90), None, (
        "swollen tender calf", "hot swollen calf after a long flight", "unilateral leg swelling"), True),
    "pulmonary embolism": Condition(("PE",), (25, 90), None, (
        "pleuritic chest pain and breathlessness", "sudden SOB and haemoptysis")),
    "transient ischaemic attack": Condition(("TIA",), (45, 95), None, (
        "word-finding difficulty that resolved within the hour", "transient arm weakness, now resolved")),
    "gastro-oesophageal reflux disease": Condition(("GORD",), (20, 85), None, (
        "burning behind the sternum after meals", "sour taste and chest burning lying flat")),
    "giant cell arteritis": Condition(("GCA",), (55, 90), None, (
        "new temporal headache and jaw claudication", "scalp tenderness, jaw ache on chewing")),
    "subarachnoid haemorrhage": Condition(("SAH",), (30, 75), None, (
        "sudden thunderclap headache and neck stiffness", "worst ever headache, onset while lifting")),
    "peptic ulcer disease": Condition(("PUD",), (30, 85), None, (
        "epigastric pain worse on an empty stomach", "gnawing epigastric pain, on NSAIDs")),
    "crohns disease": Condition((), (16, 70), None, (
        "RIF pain, diarrhoea and weight loss", "abdominal pain, mouth ulcers, loose stools"),
        written="Crohn's disease"),
    "multiple sclerosis": Condition(("MS",), (20, 60), None, (
        "blurred vision in one eye, then numb legs", "tingling legs and fatigue, past optic neuritis")),
    "parkinsons disease": Condition((), (50, 90), None, (
        "resting tremor of one hand and slow walking", "shuffling gait and small handwriting"),
        written="Parkinson's disease"),
    "acute coronary syndrome": Condition(("ACS",), (40, 90), None, (
        "central crushing chest pain at rest", "chest pain into the jaw, clammy")),
    "infective endocarditis": Condition((), (20, 85), None, (
        "fevers, new murmur, splinter haemorrhages", "night sweats and a new murmur after dental work")),
    "whooping cough": Condition((), (5, 70), None, (
        "paroxysmal cough with a whoop", "coughing fits ending in vomiting")),
    "impetigo": Condition((), (2, 12), None, (
        "honey-crusted sores around the mouth", "golden crusts on the chin")),
    "lyme disease": Condition((), (10, 80), None, (
        "expanding red ring rash after a tick bite", "target rash on the thigh after hiking"),
        written="Lyme disease"),
    "cat-scratch disease": Condition((), (5, 40), None, (
        "tender axillary node after a kitten scratch", "swollen node in the arm, new kitten at home")),
    "post-herpetic neuralgia": Condition(("PHN",), (55, 90), None, (
        "burning pain where a rash was", "burning pain along a healed dermatomal rash")),
    "trigeminal neuralgia": Condition((), (40, 85), None, (
        "electric shock pains in the cheek on chewing", "stabbing face pain set off by touch")),
    "myasthenia gravis": Condition((), (20, 80), None, (
        "droopy eyelids by evening and double vision", "fatigable weakness, ptosis late in the day")),
    "guillain-barre syndrome": Condition(("GBS",), (18, 80), None, (
        "ascending leg weakness after a diarrhoeal illness", "tingling feet, now weak legs, areflexic"),
        written="Guillain-Barre syndrome"),
    "non-alcoholic fatty liver disease": Condition(("NAFLD",), (30, 75), None, (
        "raised ALT on routine bloods, bright liver on USS", "deranged LFTs, fatty liver on scan")),
    "post-traumatic stress disorder": Condition(("PTSD",), (18, 70), None, (
        "flashbacks and nightmares since an assault", "hypervigilance and nightmares after a crash")),
    "obsessive-compulsive disorder": Condition(("OCD",), (16, 60), None, (
        "hand-washing rituals for hours a day", "checking locks again and again, intrusive thoughts")),
    "attention deficit hyperactivity disorder": Condition(("ADHD",), (6, 40), None, (
        "restless and impulsive, cannot sit through lessons", "distractible, loses things, fidgety")),
    "restless legs syndrome": Condition(("RLS",), (30, 85), None, (
        "urge to move the legs at night", "crawling feeling in the legs every evening")),
    "achilles tendinopathy": Condition((), (25, 70), None, (
        "pain above the heel on running", "stiff painful heel cord in the mornings"), True,
        written="Achilles tendinopathy"),
    "septic arthritis": Condition((), (5, 90), None, (
        "hot swollen knee, cannot weight bear, febrile", "acutely painful swollen joint and fever"), True),
    "renal colic": Condition((), (20, 70), None, (
        "loin to groin pain, writhing", "colicky flank pain into the groin"), True),
    "acute appendicitis": Condition((), (8, 60), None, (
        "periumbilical pain moving to the RIF", "RIF pain, anorexia, rebound tenderness")),
    "small bowel obstruction": Condition(("SBO",), (30, 90), None, (
        "colicky pain, vomiting, not passing flatus", "distended abdomen and bilious vomiting")),
    "pelvic inflammatory disease": Condition(("PID",), (16, 40), "female", (
        "lower abdominal pain, cervical excitation", "pelvic pain, discharge and dyspareunia")),
    "polycystic ovary syndrome": Condition(("PCOS",), (16, 40), "female", (
        "irregular periods and excess hair growth", "oligomenorrhoea and weight gain")),
    "benign prostatic hyperplasia": Condition(("BPH",), (50, 90), "male", (
        "poor stream, nocturia, hesitancy", "frequency and dribbling, smooth enlarged prostate")),
    "epididymo-orchitis": Condition((), (16, 60), "male", (
        "painful swollen testis and dysuria", "tender swollen scrotum and fever"), True),
    "bacterial vaginosis": Condition(("BV",), (16, 50), "female", (
        "thin grey discharge with a fishy smell", "offensive watery discharge, no itch")),
    "allergic contact dermatitis": Condition((), (10, 80), None, (
        "itchy rash under a new watch strap", "blistering rash after a new hair dye")),
    "seborrhoeic dermatitis": Condition((), (16, 80), None, (
        "greasy scaling of the eyebrows and nasal folds", "flaky red patches beside the nose")),
    "tension-type headache": Condition((), (16, 70), None, (
        "band-like headache, worse with stress", "pressing headache on both sides")),
    "mumps": Condition((), (5, 30), None, ("swollen tender parotids and fever", "puffy cheeks by the jaw")),
    "bacterial meningitis": Condition((), (1, 60), None, (
        "fever, neck stiffness and photophobia", "headache, non-blanching rash, drowsy")),
    "acute urinary retention": Condition((), (55, 95), "male", (
        "unable to pass urine since the morning", "painful palpable bladder, no urine for hours")),
    "pleural effusion": Condition((), (40, 90), None, (
        "stony dull base, breathless", "reduced breath sounds at one base")),
    "pneumothorax": Condition((), (16, 40), None, (
        "sudden pleuritic pain, reduced air entry on one side", "sharp chest pain and breathless, tall")),
    "dupuytrens contracture": Condition((), (45, 85), None, (
        "ring finger pulled into the palm, cord palpable", "cannot lay the hand flat on the table"), True,
        written="Dupuytren's contracture"),
    "olecranon bursitis": Condition((), (25, 80), None, (
        "soft fluctuant swelling over the point of the elbow", "boggy swelling behind the elbow"), True),
    "trigger finger": Condition((), (35, 80), None, (
        "finger locks in the palm and clicks free", "painful catching of the middle finger"), True),
    "coeliac disease": Condition((), (10, 70), None, (
        "bloating, loose pale stools, raised tTG", "weight loss and diarrhoea, positive TTG antibodies")),
    "sarcoidosis": Condition((), (20, 60), None, (
        "dry cough, tender shins, bilateral hilar nodes on CXR", "hilar lymphadenopathy and raised ACE")),
    "molluscum contagiosum": Condition((), (2, 12), None, (
        "pearly umbilicated papules on the trunk", "crops of small dimpled papules in the armpit")),
    "kawasaki disease": Condition((), (1, 5), None, (
        "fever for days, red eyes, cracked lips, peeling fingers", "prolonged fever, strawberry lips, red palms"),
        written="Kawasaki disease"),
    "infectious mononucleosis": Condition((), (14, 25), None, (
        "sore throat, big neck nodes, exhausted, positive monospot", "fever, exudative tonsils, splenomegaly")),
    "acute mountain sickness": Condition(("AMS",), (18, 65), None, (
        "headache and nausea after a fast ascent on a trek", "poor sleep and headache at altitude")),
    "chronic fatigue syndrome": Condition(("CFS",), (18, 60), None, (
        "exhaustion after the least effort for months", "unrefreshing sleep and post-exertional crash")),
    "idiopathic intracranial hypertension": Condition(("IIH",), (16, 45), None, (
        "daily headache, pulsatile whoosh in the ears, papilloedema", "headache worse lying down, blurred vision")),
    "peripheral arterial disease": Condition(("PAD",), (50, 90), None, (
        "calf cramp walking a short way, eased by rest", "cold foot, weak pulses, claudication")),
    "abdominal aortic aneurysm": Condition(("AAA",), (60, 90), "male", (
        "pulsatile mass above the navel on screening", "dilated aorta on screening scan")),
}

# Other conditions a note's history may name (never the answer): their usual shorthand.
HISTORY = ("HTN", "T2DM", "asthma", "IHD", "high cholesterol", "hypothyroid", "gout", "depression",
           "OA knees", "migraine", "COPD", "previous MI", "CKD", "epilepsy", "eczema")
HISTORY_LABELS = ("PMH", "PMH:", "Bg:", "Hx", "FHx", "known", "background of", "hx of")

MARKERS = ("Impression:", "Imp:", "Assessment -", "A/P", "Dx:", "Dx", "")  # "": no marker
# Severity in words, exactly once a note.
SEVERITY_WORDS = {"mild": ("mild", "mild", "Mild"), "moderate": ("moderate", "mod", "mod.", "Moderate"),
                  "severe": ("severe", "sev.", "severe", "Severe")}
SEVERITY_PATTERNS = {"mild": r"\bmild(ly)?\b", "moderate": r"\bmod(erate(ly)?)?\b", "severe": r"\bsev(ere(ly)?)?\b"}
SEVERITIES = tuple(SEVERITY_WORDS)
SEXES = ("female", "male")

SETTINGS = ("GP", "ED", "OOH", "Clinic", "Tel consult", "Walk-in", "Ward", "Urgent care", "MAU", "")
PLANS = ("f/u 1/52", "review 2/7", "safety-netted", "leaflet given", "r/v if worse", "bloods sent",
         "d/w reg", "GP to review", "refer OPD", "analgesia, r/v 48h", "admit", "d/c home")
SURNAMES = ("Abbot", "Bakr", "Castell", "Dunmore", "Eze", "Farrant", "Greaves", "Hollis", "Iqbal",
            "Jarvis", "Kerr", "Lindqvist", "Mensah", "Nair", "Okonjo", "Pryce", "Quayle", "Ruiz")


class Patient:
    """One invented patient and the rng that writes their note."""

    def __init__(self, rng: random.Random, condition: str, sex: str, severity: str):
        self.rng, self.condition, self.sex, self.severity = rng, condition, sex, severity
        self.spec = CONDITIONS[condition]
        self.age = rng.randint(*self.spec.ages)
        f = sex == "female"
        self.L = "F" if f else "M"
        self.noun = ("girl" if f else "boy") if self.age < 16 else ("woman" if f else "man")

    def pick(self, *options):
        return self.rng.choice(options)

    def maybe(self, text: str, p: float = 0.5) -> str:
        return text if self.rng.random() < p else ""

    def who(self) -> str:
        a, title = self.age, f"{'Mrs' if self.sex == 'female' else 'Mr'} {self.rng.choice(SURNAMES)}"
        forms = [f"{a}{self.L}", f"{a} y/o {self.L}", f"pt {a} y/o {self.L}", f"{a}yo {self.sex}",
                 f"{self.L} {a}", f"{a}-year-old {self.noun}", f"{a} yo {self.noun}"]
        if self.age >= 18:
            forms.append(f"{title} ({a})")
        return self.rng.choice(forms)

    def duration(self) -> str:
        n = self.rng.randint(1, 9)
        return self.pick(f"{n}/7", f"{n}/52", f"x{n}d", f"{n}/12", f"since {self.clock()}", f"for {n} days")

    def clock(self) -> str:
        return f"{self.rng.randint(0, 23):02d}:{self.rng.choice((0, 10, 15, 20, 30, 40, 45, 50)):02d}"

    def obs(self) -> str:
        r = self.rng
        readings = [f"BP {r.randint(95, 175)}/{r.randint(55, 105)}", f"HR {r.randint(58, 128)}",
                    f"sats {r.randint(88, 100)}% RA", f"T {r.randint(362, 395) / 10:.1f}", f"RR {r.randint(12, 30)}",
                    f"CRP {r.randint(2, 240)}", f"GCS {r.randint(13, 15)}"]
        return ", ".join(r.sample(readings, r.randint(1, 3)))

    def named(self) -> str:
        """The condition as this note writes it: its abbreviation or its name, maybe with the side."""
        spec = self.spec
        name = spec.written or self.condition
        if spec.abbreviations and self.rng.random() < 0.5:
            name = self.rng.choice(spec.abbreviations)
        else:
            name = self.pick(name, name, name[0].upper() + name[1:])
        side = self.pick("L ", "R ", "left ", "right ") if spec.lateral and self.rng.random() < 0.5 else ""
        return side + name

    def diagnosis(self, marker: str) -> str:
        """The marker, the condition and its severity in one of the orders clinicians write them."""
        sev, named = self.rng.choice(SEVERITY_WORDS[self.severity]), self.named()
        phrase = self.pick(f"{named}, {sev.lower()}", f"{sev} {named}", f"{named} ({sev.lower()})",
                           f"{named} - {sev.lower()}")
        return f"{marker} {phrase}" if marker else phrase

    def history(self) -> str:
        others = [h for h in HISTORY if h.lower() not in self.condition]
        others += [abbreviation for c, spec in CONDITIONS.items() if c != self.condition
                   for abbreviation in spec.abbreviations[:1]]
        return f"{self.rng.choice(HISTORY_LABELS)} {', '.join(self.rng.sample(others, self.rng.randint(1, 2)))}"


def write(p: Patient, marker: str) -> str:
    """One note: who, complaint, history, findings and plan, the diagnosis first, in the middle or last."""
    setting = p.rng.choice(SETTINGS)
    head = f"{setting} {p.clock()}" if setting and p.rng.random() < 0.4 else setting
    complaint = f"{p.who()} {p.pick('c/o', 'c/o', 'with', 'pres w/', '-')} {p.rng.choice(p.spec.symptoms)} " \
                f"{p.duration()}"
    findings = p.pick("O/E", "obs", "o/e", "Ex:") + " " + p.obs()
    parts = [complaint, p.maybe(p.history(), 0.6), findings]
    dx = p.diagnosis(marker)
    at = p.pick(0, 1, len(parts))  # first, after the complaint, or last
    parts.insert(at, dx)
    parts.append(p.maybe(p.pick("Plan: ", "-> ", "P: ", "") + p.rng.choice(PLANS), 0.7))
    sep = p.pick(". ", ". ", "; ", "\n")
    return sep.join(x for x in [head, *parts] if x) + ("." if sep == ". " else "")


def fits(text: str, p: Patient) -> bool:
    """Short enough, one severity (the note's), and the age the only number equal to it."""
    said = {s for s, pattern in SEVERITY_PATTERNS.items() if re.search(pattern, text, re.IGNORECASE)}
    return (len(text.split()) <= MAX_WORDS and said == {p.severity}
            and len(re.findall(rf"(?<![\d.]){p.age}(?![\d.])", text)) == 1)


def generated(seed: int = SEED, n: int = N_NOTES) -> list[dict]:
    """n notes: every condition in turn, severities, sexes and markers rotated, each gold diagnosis
    checked against the schema."""
    rng = random.Random(seed)
    names = list(CONDITIONS)
    rows = []
    for i in range(n):
        condition = names[i % len(names)]
        sex = CONDITIONS[condition].sex or SEXES[(i // len(names)) % 2]
        severity, marker = SEVERITIES[i % 3], MARKERS[i % len(MARKERS)]
        for _ in range(200):  # redraw until the note fits
            p = Patient(rng, condition, sex, severity)
            text = write(p, marker)
            if fits(text, p):
                break
        else:
            raise RuntimeError(f"could not write a note for {condition}")
        expected = dict(age=p.age, sex=sex, condition=condition, severity=severity)
        _expected(expected)  # a DataError naming the field, if a name breaks the schema's pattern
        rows.append(dict(split="train", style=STYLE, note=text, expected=expected))
    rng.shuffle(rows)
    return rows


def build_lines(seed: int = SEED, n: int = N_NOTES) -> list[str]:
    return [json.dumps({"id": f"{ID_PREFIX}{i:03d}", **row}, ensure_ascii=False)
            for i, row in enumerate(generated(seed, n), 1)]


if __name__ == "__main__":
    lines = build_lines()
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} notes to {OUT}")
