"""Write notes.jsonl: short fictional clinical notes with their gold diagnosis.

    python data/clinical/make_notes.py          # rewrite notes.jsonl next to this file

train and test come from 8 seeded, template-based note styles, each with its
own optional clauses, synonyms and field orders; unseen_style notes are written
by hand below, in 6 styles that never occur in training, and mostly about
conditions that never occur in training. Every note names its condition
literally and states its severity explicitly, so the gold answer needs no
guessing. All patients are invented.
"""
from __future__ import annotations

import json
import random
import re
from pathlib import Path

SEED = 135
OUT = Path(__file__).with_name("notes.jsonl")

# The 50 conditions the fictional formulary treats (the "treats" column of
# data/world/drugs_t*.csv). 35 appear in training; the other 15 are kept back
# for the unseen_style notes.
TRAIN_CONDITIONS = (
    "gout", "migraine", "psoriasis", "acne", "insomnia", "asthma", "eczema", "anemia", "angina",
    "bronchitis", "heartburn", "hives", "hypertension", "lupus", "nausea", "osteoporosis",
    "pneumonia", "sinusitis", "vertigo", "conjunctivitis", "constipation", "sciatica", "cystitis",
    "tonsillitis", "obesity", "epilepsy", "alopecia", "anxiety", "dandruff", "depression",
    "diabetes", "gingivitis", "motion sickness", "ringworm", "warts",
)
HELD_OUT_CONDITIONS = (
    "scabies", "tinnitus", "glaucoma", "shingles", "narcolepsy", "hay fever", "rosacea", "malaria",
    "tuberculosis", "chickenpox", "sunburn", "head lice", "dementia", "influenza", "cold sores",
)
CONDITIONS = TRAIN_CONDITIONS + HELD_OUT_CONDITIONS

# Per training condition: plausible ages and symptom phrases. Symptoms avoid
# every condition name, severity word and severity-laden number (BMI, Hb,
# T-score) so the stated severity is the only one in the note.
PROFILE = {
    "gout": ((35, 90), ["hot swollen big toe joint", "painful red first MTP joint"]),
    "migraine": ((12, 65), ["throbbing one-sided headache with photophobia",
                            "recurrent headaches with visual aura"]),
    "psoriasis": ((16, 80), ["scaly plaques on elbows and knees", "silvery plaques on the scalp"]),
    "acne": ((13, 35), ["comedones and pustules on the face", "spots on face and upper back"]),
    "insomnia": ((18, 90), ["difficulty falling asleep for 2 months", "early waking and poor sleep"]),
    "asthma": ((4, 80), ["wheeze and night cough", "wheeze, chest tightness, using reliever more"]),
    "eczema": ((1, 70), ["dry itchy patches in elbow creases", "itchy flexural rash"]),
    "vertigo": ((30, 90), ["room-spinning dizziness on turning the head",
                           "spinning sensation when rolling over in bed"]),
    "sinusitis": ((16, 75), ["facial pain and blocked nose for 10 days",
                             "purulent nasal discharge and frontal pain"]),
    "bronchitis": ((18, 85), ["productive cough for 2 weeks", "cough with green sputum"]),
    "anemia": ((16, 95), ["fatigue and pallor, low Hb", "tiredness and breathlessness on exertion"]),
    "angina": ((45, 95), ["chest tightness on exertion relieved by rest", "exertional chest pain"]),
    "cystitis": ((16, 90), ["dysuria and urinary frequency", "burning on passing urine"]),
    "heartburn": ((20, 85), ["burning retrosternal discomfort after meals", "acid reflux at night"]),
    "hives": ((3, 75), ["raised itchy wheals on the trunk", "itchy welts after eating shellfish"]),
    "hypertension": ((35, 95), ["raised BP on repeat readings", "raised BP at three visits"]),
    "lupus": ((16, 65), ["malar rash and joint pains", "butterfly rash, fatigue and joint aches"]),
    "nausea": ((16, 80), ["queasiness and retching for 3 days", "persistent queasiness, no vomiting"]),
    "obesity": ((18, 75), ["raised BMI and steady weight gain", "weight gain, breathless on stairs"]),
    "osteoporosis": ((50, 95), ["low DEXA T-score after a wrist fracture", "low bone density on DEXA"]),
    "pneumonia": ((1, 95), ["fever, cough, right basal crackles",
                            "productive cough, fever, consolidation on CXR"]),
    "sciatica": ((25, 80), ["shooting pain down the left leg", "low back pain radiating to the right calf"]),
    "tonsillitis": ((3, 35), ["sore throat, enlarged tonsils with exudate", "sore throat and fever, pus on tonsils"]),
    "conjunctivitis": ((1, 85), ["red sticky eye", "itchy red eyes with discharge"]),
    "constipation": ((2, 95), ["no bowel movement for 6 days", "hard infrequent stools, straining"]),
    "epilepsy": ((3, 80), ["two witnessed seizures this month", "recurrent tonic-clonic seizures"]),
    "alopecia": ((16, 70), ["patchy hair loss on the scalp", "round bald patches in the beard area"]),
    "anxiety": ((16, 80), ["constant worry, palpitations and poor concentration",
                           "restlessness and racing thoughts"]),
    "dandruff": ((12, 70), ["itchy flaking scalp", "white flakes on the shoulders and scalp itch"]),
    "depression": ((16, 85), ["low mood and loss of interest for 6 weeks", "low mood, poor appetite, tearful"]),
    "diabetes": ((30, 90), ["thirst, polyuria and raised HbA1c", "raised fasting glucose and thirst"]),
    "gingivitis": ((16, 80), ["bleeding swollen gums when brushing", "red puffy gums"]),
    "motion sickness": ((5, 70), ["queasiness on car journeys", "dizziness and vomiting on boats"]),
    "ringworm": ((3, 70), ["itchy ring-shaped rash on the arm", "scaly circular patch on the leg"]),
    "warts": ((5, 70), ["rough raised lumps on the fingers", "small hard lumps on the sole"]),
}
FLARES = {"gout", "psoriasis", "eczema", "lupus", "asthma"}
# Ward styles (admission, discharge) only get conditions people are admitted with.
WARD_STYLES = {"discharge_summary", "progress_note"}
WARD_CONDITIONS = {"pneumonia", "epilepsy", "angina", "asthma", "anemia", "lupus", "vertigo",
                   "bronchitis", "cystitis", "nausea", "hypertension", "constipation", "migraine",
                   "sciatica", "depression", "diabetes"}

SURNAMES = ["Patel", "Jones", "Okafor", "Nowak", "Khan", "Murphy", "Silva", "Evans", "Chen",
            "Kowalski", "Ahmed", "Byrne", "Rossi", "Hughes", "Novak", "Singh", "Walsh", "Kim",
            "Fraser", "Adeyemi", "Lund", "Moreau", "Price", "Haddad", "Doyle", "Ito"]
COMORBID = ["COPD", "hypothyroidism", "AF", "CKD 3", "hyperlipidemia", "previous appendicectomy"]
DURATIONS = ["x2d", "x3/7", "x1/52", "for 2 weeks", "since Monday", "for 5 days"]
EXAMS = ["afebrile", "obs stable", "obs normal", "HR 84, afebrile", "sats 98% RA", "NAD otherwise"]
PLANS = ["f/u 2/52", "review in 1 wk", "safety-netted", "leaflet given", "GP review 2 weeks",
         "return if worse", "bloods sent", "rx started, review 10 days"]

# Severity in varied but explicit words: before the condition, or after it.
SEV_BEFORE = {"mild": ["mild", "mild", "mild-grade"],
              "moderate": ["moderate", "moderate", "mod."],
              "severe": ["severe", "severe", "sev."]}
SEV_AFTER = {"mild": ["mild", "mild", "graded mild"],
             "moderate": ["moderate", "mod.", "moderate"],
             "severe": ["severe", "sev.", "severe"]}

SEVERITIES = ("mild", "moderate", "severe")
SEXES = ("female", "male")
STYLES = ("telegraphic", "prose_hpi", "soap", "discharge_summary", "problem_list",
          "progress_note", "consult_note", "intake_form")


class P:
    """One invented patient plus the rng, with the sex words a note may use."""

    def __init__(self, rng: random.Random, age: int, sex: str, condition: str, severity: str):
        self.rng, self.age, self.sex, self.cond, self.sev = rng, age, sex, condition, severity
        f = sex == "female"
        self.L = "F" if f else "M"
        self.adj = sex
        self.noun = ("girl" if f else "boy") if age < 16 else ("woman" if f else "man")
        self.pron = "She" if f else "He"
        # "an 83-year-old", "an 11-year-old", "a 54-year-old"
        self.a = "an" if str(age).startswith("8") or age in (11, 18) else "a"
        self.adult = age >= 18
        self.title = f"{'Mrs' if f else 'Mr'} {rng.choice(SURNAMES)}" if self.adult else None
        self.polite = ("lady" if f else "gentleman") if age >= 40 else self.noun
        self.sym = rng.choice(PROFILE[condition][1])
        # Symptoms that already say how long, or are findings rather than complaints.
        self.timed = any(w in self.sym for w in ("for ", "since", "this month", "BP", "DEXA", "Hb"))

    def pick(self, *options):
        """Choose one option, skipping those that do not fit (None)."""
        return self.rng.choice([o for o in options if o is not None])

    def maybe(self, text, p=0.5):
        return text if text is not None and self.rng.random() < p else None

    def sev_before(self, prose=False):
        words = SEV_BEFORE[self.sev][:2] if prose else SEV_BEFORE[self.sev]
        if self.cond in FLARES and self.rng.random() < 0.25:
            return f"{'a ' if prose else ''}{self.rng.choice(words[:2])} flare of {self.cond}"
        return f"{self.rng.choice(words)} {self.cond}"

    def sev_after(self):
        return self.rng.choice(SEV_AFTER[self.sev])

    def cond_cased(self):
        # Some authors capitalise or shout the diagnosis; the XML wants lower case.
        return self.pick(self.cond, self.cond, self.cond.capitalize(), self.cond.upper())

    def duration(self, p=0.6):
        # Only when the symptom phrase does not already say how long.
        return "" if self.timed or self.rng.random() >= p else " " + self.rng.choice(DURATIONS)

    def comorbid(self):
        return self.rng.choice(COMORBID) if self.adult else None


def telegraphic(p: P) -> str:
    a = p.age
    subj = p.pick(f"{a}{p.L}", f"{a} y/o {p.L}", f"{a}yo {p.L}", f"{a} yo {p.adj}", f"{p.L} {a}")
    cc = p.pick("c/o ", "", "pres w/ ") + p.sym + p.duration()
    dx = p.pick(f"Dx: {p.sev_before()}", f"Dx {p.cond_cased()}, {p.sev_after()}",
                f"Imp: {p.cond_cased()} ({p.sev_after()})")
    c = p.comorbid()
    hx = p.pick(f"Hx {c}", f"PMH {c}", "s/p appendicectomy") if c else None
    parts = [subj, cc, p.maybe(hx), p.maybe(p.rng.choice(EXAMS)), dx,
             p.maybe(p.rng.choice(PLANS), 0.7)]
    return ". ".join(x for x in parts if x) + "."


def prose_hpi(p: P) -> str:
    a = p.age
    dur = "" if p.timed else p.pick(" over the last week", " for several days", "", "")
    opening = p.pick(
        f"{p.title} is {p.a} {a}-year-old {p.polite} who presents with {p.sym}{dur}." if p.title else None,
        f"{p.title}, aged {a}, attends with {p.sym}{dur}." if p.title else None,
        f"This {a}-year-old {p.noun} was seen today with {p.sym}{dur}.",
        f"Seen today: {p.a} {a}-year-old {p.noun} with {p.sym}{dur}.")
    c = p.comorbid()
    history = p.maybe(f"{p.pron} has a background of {c}." if c else None)
    assess = p.pick(f"Findings are consistent with {p.sev_before(prose=True)}.",
                    f"My impression is {p.sev_before(prose=True)}.",
                    f"I have diagnosed {p.sev_before(prose=True)}.",
                    f"The working diagnosis is {p.cond}, which I would grade as {SEV_AFTER[p.sev][0]}.")
    plan = p.maybe(p.pick("We discussed the plan and I will review in two weeks.",
                          f"{p.pron} is happy with the plan.", "Safety-netting advice given."))
    return " ".join(x for x in (opening, history, assess, plan) if x)


def soap(p: P) -> str:
    s, o, a_, pl = p.pick(("S:", "O:", "A:", "P:"), ("Subj:", "Obj:", "Assess:", "Plan:"),
                          ("S)", "O)", "A)", "P)"))
    subj = p.pick(f"{p.age} y/o {p.L} c/o {p.sym}", f"{p.age}yo {p.adj}, reports {p.sym}",
                  f"pt is {p.a} {p.age} yo {p.noun} with {p.sym}")
    subj += p.duration(0.5)
    assess = p.pick(p.sev_before(), f"{p.cond_cased()} - {p.sev_after()}", f"{p.cond_cased()}, {p.sev_after()}")
    sep = p.pick(" ", "\n")
    return sep.join([f"{s} {subj}.", f"{o} {p.rng.choice(EXAMS)}.", f"{a_} {assess}.",
                     f"{pl} {p.rng.choice(PLANS)}."])


def discharge_summary(p: P) -> str:
    head = p.pick("Discharge summary.", "DISCHARGE SUMMARY:", "D/C summary -")
    who = p.pick(f"{p.title}, {p.age}{p.L}." if p.title else None, f"Patient: {p.age} y/o {p.adj}.",
                 f"{p.age}-year-old {p.noun}.")
    adm = p.pick(f"Admitted with {p.sym}.", f"Presented with {p.sym}.", f"Adm w/ {p.sym}.")
    dx = p.pick(f"Discharge diagnosis: {p.sev_before()}.", f"Principal dx: {p.cond} ({p.sev_after()}).",
                f"Final diagnosis: {p.cond_cased()}, {p.sev_after()}.")
    los = p.maybe(f"LOS {p.rng.randint(2, 9)} days.")
    fu = p.pick("Discharged home, GP f/u 2 weeks.", "D/c home with GP review.",
                "Home today; clinic f/u in 6 wks.", "Home with family, leaflet given.")
    order = [head, who, adm, dx, los, fu] if p.rng.random() < 0.6 else [head, who, dx, adm, los, fu]
    return " ".join(x for x in order if x)


def problem_list(p: P) -> str:
    head = p.pick(f"Pt: {p.age} {p.L}", f"{p.title} ({p.age}{p.L})" if p.title else None,
                  f"{p.age}yo {p.adj}")
    main = p.pick(f"#1 {p.cond_cased()} ({p.sev_after()})", f"1. {p.cond.capitalize()} - {p.sev_after()}",
                  f"Problem: {p.sev_before()}")
    c = p.comorbid()
    label = {"#": "#2 ", "1": "2. "}.get(main[0], "PMH: ")
    other = p.maybe(label + c if c else None)
    pres = p.maybe(f"Presenting: {p.sym}", 0.7)
    plan = p.maybe(f"Plan: {p.rng.choice(PLANS)}", 0.7)
    body = [main, other, pres] if p.rng.random() < 0.6 else [pres, main, other]
    sep = p.pick(" | ", "\n", " / ")
    return sep.join(x for x in [head, *body, plan] if x)


def progress_note(p: P) -> str:
    d = p.rng.randint(2, 6)
    head = p.pick(f"Ward round day {d}.", f"Progress note, day {d}:", f"WR D{d}:")
    who = p.pick(f"{p.title} ({p.age}{p.L})" if p.title else None, f"{p.age} y/o {p.adj}",
                 f"{p.age}-year-old {p.noun}")
    adm = p.pick(f"{who}, admitted w/ {p.sev_before()}.", f"{who} - {p.cond_cased()} ({p.sev_after()}).",
                 f"{who}, in with {p.cond_cased()}, {p.sev_after()}.")
    status = p.pick(f"{p.pron} feels better today.", f"{p.pron} says symptoms are settling.",
                    "Eating and drinking, obs stable.", f"{p.pron} is comfortable this morning.")
    plan = p.pick("Plan: continue current mx, review tomorrow.", "Plan: bloods in AM.",
                  "Plan: aim d/c in 48h.", f"Plan: {p.rng.choice(PLANS)}.")
    return " ".join([head, adm, status, plan])


def consult_note(p: P) -> str:
    head = p.pick("Consult:", "Specialist consult -", "Clinic consult, GP referral:")
    body = p.pick(f"asked to see this {p.age}yo {p.adj} re {p.sym}.",
                  f"{p.title}, {p.age}, seen re {p.sym}." if p.title else None,
                  f"{p.age} y/o {p.L} referred with {p.sym}.")
    imp = p.pick(f"Impression: {p.sev_before()}.", f"Opinion: {p.cond_cased()}, {p.sev_after()}.",
                 f"Assessment - {p.cond}, {p.sev_after()}.")
    recs = p.maybe(f"Recs: {p.rng.choice(PLANS)}.", 0.7)
    sign = p.maybe(p.pick("Will follow.", "Happy to see again.", "Discussed with consultant."))
    return " ".join(x for x in (head, body, imp, recs, sign) if x)


def intake_form(p: P) -> str:
    age = p.pick(f"Age: {p.age}", f"Age (yrs): {p.age}")
    sex = p.pick(f"Sex: {p.L}", f"Sex: {p.adj.capitalize()}", f"Gender: {p.L}")
    reason = p.pick(f"Reason for visit: {p.sym}", f"Presenting complaint: {p.sym}")
    dx = p.pick(f"Diagnosis: {p.cond_cased()}", f"Dx: {p.cond_cased()}", f"Working dx: {p.cond}")
    sev = p.pick(f"Severity: {p.sev_after()}", f"Grade: {SEV_AFTER[p.sev][0]}")
    extras = [p.maybe("Allergies: NKDA"), p.maybe("Referred by: GP"),
              p.maybe(f"PMH: {p.comorbid()}" if p.adult else None)]
    middle = [reason, dx, sev] if p.rng.random() < 0.5 else [dx, sev, reason]
    head = [age, sex] if p.rng.random() < 0.7 else [sex, age]
    return "\n".join(x for x in [*head, *middle, *extras] if x)


STYLE_FUNCS = {f.__name__: f for f in (telegraphic, prose_hpi, soap, discharge_summary,
                                       problem_list, progress_note, consult_note, intake_form)}
assert tuple(STYLE_FUNCS) == STYLES

# Hand-written by "other authors": styles and mostly conditions never seen in training.
UNSEEN = [
    # A triage nurse's one-liner
    ("triage_line", "Triage 08:15, 23F walk-in, itchy burrows between fingers, partner the same. "
     "Nurse impression: mild scabies. Cat 4, wait in minors.", 23, "female", "scabies", "mild"),
    ("triage_line", "Triage 14:02, 67 male, ringing in both ears for 3 weeks, not sleeping, obs WNL. "
     "Triaged as moderate tinnitus, cat 4 (standard).", 67, "male", "tinnitus", "moderate"),
    ("triage_line", "Triage 02:30, 19 female, back from Ghana a week ago: fevers, rigors, confusion, "
     "GCS 14. Triage impression severe malaria, cat 1, to resus.", 19, "female", "malaria", "severe"),
    ("triage_line", "Triage 11:10, 8 y/o boy with mum, sore throat, T 38.4, swollen tonsils, drinking ok. "
     "Impression mild tonsillitis, cat 4, paracetamol given.", 8, "male", "tonsillitis", "mild"),
    ("triage_line", "Triage 17:45, 45 man, fever, aches and dry cough since yesterday, sats 96%, obs "
     "stable. Triaged moderate influenza, cat 3, masked, side room.", 45, "male", "influenza", "moderate"),
    ("triage_line", "Triage 21:20, 72 F, wheezy, sats 91% RA, speaking in short sentences. "
     "Impression severe asthma, cat 2, straight to majors.", 72, "female", "asthma", "severe"),
    # A dictated referral letter
    ("referral_letter", "Dear Dr Owusu, thank you for seeing Mrs Ada Brennan, 64, who has moderate "
     "glaucoma on recent field testing, with pressures still raised on drops. I would value your "
     "opinion. Yours sincerely, Dr Hale", 64, "female", "glaucoma", "moderate"),
    ("referral_letter", "Dear Colleague, I would be grateful if you could see Mr Tomas Reyes, aged 78, "
     "with severe dementia: he wanders at night and no longer knows his family. Kind regards, Dr Amis",
     78, "male", "dementia", "severe"),
    ("referral_letter", "Dear Dr Lin, re Mrs Amara Watts, 34. She has moderate tuberculosis on chest "
     "X-ray and sputum, with weight loss and night sweats. Please see in TB clinic. Best wishes, "
     "Dr Moss", 34, "female", "tuberculosis", "moderate"),
    ("referral_letter", "Dear Sir or Madam, I am referring this 52-year-old gentleman with moderate "
     "psoriasis, plaques on elbows and scalp, which has not responded to topical treatment. "
     "Many thanks, Dr Bell", 52, "male", "psoriasis", "moderate"),
    ("referral_letter", "Dear Dr Ahmed, please see Mrs Joan Pike, 81, with severe osteoporosis after a "
     "second vertebral fracture this year. She is keen to discuss options. Yours, Dr Carey",
     81, "female", "osteoporosis", "severe"),
    # A terse emergency-department note with semicolons
    ("ed_terse", "ED 03:10; 26M; painful blisters on upper lip 3d, tingling first; obs normal; "
     "dx cold sores, mild; aciclovir cream; GP prn.", 26, "male", "cold sores", "mild"),
    ("ed_terse", "ED; 58F; painful blistering band L chest, dermatomal; obs ok; dx shingles (sev.); "
     "antivirals + analgesia; GP f/u 1/52.", 58, "female", "shingles", "severe"),
    ("ed_terse", "ED; 33M; red blistering back and shoulders after 6h on the beach; obs ok; "
     "dx sunburn, mod.; fluids, emollient; d/c.", 33, "male", "sunburn", "moderate"),
    ("ed_terse", "ED; 47F; SOB on exertion, pale, tachy; Hb 62; dx anemia, severe; 2 units; "
     "admit med; haematology aware.", 47, "female", "anemia", "severe"),
    ("ed_terse", "ED; 2F w/ dad; itchy spots and blisters on trunk, T 38.2; eating ok; dx chickenpox, "
     "mild; calpol; safety-net given; d/c home.", 2, "female", "chickenpox", "mild"),
    ("ed_terse", "ED; 61M; fell asleep at the wheel, daytime sleep attacks, cataplexy; dx narcolepsy, "
     "moderate; DVLA advice; sleep clinic ref.", 61, "male", "narcolepsy", "moderate"),
    # A patient-portal message, rewritten by a clinician
    ("portal_message", "Portal message (paraphrased by Dr Nash): Mr Green, 29, says his eyes itch and "
     "his nose runs every June. Reviewed: mild hay fever. Advised OTC antihistamine; reply sent.",
     29, "male", "hay fever", "mild"),
    ("portal_message", "Summary of online message: she is 44, with flushing and red bumps on her "
     "cheeks, worse with wine. Photos reviewed, moderate rosacea. Cream prescribed, to message again "
     "if no change.", 44, "female", "rosacea", "moderate"),
    ("portal_message", "e-consult, rewritten by clinician: a mum writes that her daughter, 7, keeps "
     "scratching and she found live lice behind the ears. View: mild head lice infestation. "
     "Wet combing advised.", 7, "female", "head lice", "mild"),
    ("portal_message", "e-consult summary: Mrs Lowe (56) writes that for 2 months she lies awake until "
     "3am and feels wrecked all day. Assessed as severe insomnia; sleep hygiene sheet sent.",
     56, "female", "insomnia", "severe"),
    ("portal_message", "Online message, clinician summary: a dad writes that his son, 11, has not "
     "opened his bowels for 5 days but is eating well. Judged mild constipation; fluids and fibre "
     "advice given.", 11, "male", "constipation", "mild"),
    # An ambulance crew's SBAR handover
    ("sbar_handover", "Situation: 79-year-old woman from home, GP-diagnosed severe pneumonia. "
     "Background: lives alone, ex-smoker. Assessment: sats 88%, RR 28, crackles R base. "
     "Recommendation: oxygen, senior review.", 79, "female", "pneumonia", "severe"),
    ("sbar_handover", "Situation: 66 y/o man, known moderate dementia, found wandering outside at "
     "night. Background: lives with wife. Assessment: temp 35.4, obs otherwise stable. "
     "Recommendation: ED review, social care.", 66, "male", "dementia", "moderate"),
    ("sbar_handover", "S: 15-year-old girl, known epilepsy, moderate, two seizures at school today. "
     "B: on levetiracetam. A: post-ictal, GCS 14 and improving. R: ED review, neuro aware.",
     15, "female", "epilepsy", "moderate"),
    ("sbar_handover", "S: 58 y/o male, severe angina, three episodes at rest today. B: MI 2019, smoker. "
     "A: pain-free now after GTN, ECG no STE. R: cardiology review please.",
     58, "male", "angina", "severe"),
    ("sbar_handover", "S: 21-year-old male student back from Nigeria, malaria on GP blood film, mild. "
     "B: nil PMH, no prophylaxis. A: T 38.9, GCS 15. R: medical team, repeat film.",
     21, "male", "malaria", "mild"),
    # A voice-recognition dictation transcript, punctuation spoken aloud
    ("dictation", "dictation begins this is a fifty four year old female seen today with moderate gout "
     "of the right big toe full stop plan colchicine comma review next week full stop dictation ends",
     54, "female", "gout", "moderate"),
    ("dictation", "clinic letter comma re Mr Arthur Quinn comma aged eighty eight full stop he has "
     "severe tinnitus comma left worse than right comma and poor sleep full stop audiology referral "
     "made full stop", 88, "male", "tinnitus", "severe"),
    ("dictation", "seen with mum today a six year old boy with mild scabies full stop itchy burrows on "
     "both wrists full stop whole household to treat full stop next paragraph", 6, "male", "scabies", "mild"),
    ("dictation", "new paragraph this thirty one year old lady has moderate hay fever every summer "
     "comma sneezing and streaming eyes full stop antihistamine and nasal spray advised full stop",
     31, "female", "hay fever", "moderate"),
    ("dictation", "dictated not checked colon seventy three year old man with severe glaucoma comma "
     "both eyes comma field loss progressing on drops full stop urgent eye clinic please full stop",
     73, "male", "glaucoma", "severe"),
]

N_TRAIN_PER_STYLE, N_TEST_PER_STYLE = 6, 2
WORDS = (15, 45)  # every token costs training time on a CPU
SEV_PATTERNS = {"mild": r"\bmild(?:ly)?(?![a-z])",
                "moderate": r"\bmod(?:erate(?:ly)?|\.)?(?![a-z])",
                "severe": r"\bsev(?:ere(?:ly)?|\.)?(?![a-z])"}


def unambiguous(text: str, condition: str, severity: str) -> bool:
    """Exactly one listed condition and one severity family appear in the note."""
    low = text.lower()
    conds = {c for c in CONDITIONS if re.search(rf"\b{re.escape(c)}\b", low)}
    sevs = {s for s, pat in SEV_PATTERNS.items() if re.search(pat, low)}
    return conds == {condition} and sevs == {severity}


def age_once(text: str, age: int) -> bool:
    """The age is the only standalone number equal to it (no "Hb 8" in an 8-year-old)."""
    return len(re.findall(rf"(?<![\d.]){age}(?![\d.])", text)) == 1


def draw_age(rng: random.Random, cond: str) -> int:
    """Uniform over the condition's plausible ages, with extra children where plausible."""
    lo, hi = PROFILE[cond][0]
    if lo <= 12 and rng.random() < 0.3:
        hi = 12
    return rng.randint(lo, hi)


def _fit_ward_styles(conds: list[str], styles: list[str]) -> None:
    """Swap conditions so that ward-style notes get conditions people are admitted with."""
    for i, style in enumerate(styles):
        if style in WARD_STYLES and conds[i] not in WARD_CONDITIONS:
            j = next(j for j, (c, s) in enumerate(zip(conds, styles))
                     if s not in WARD_STYLES and c in WARD_CONDITIONS)
            conds[i], conds[j] = conds[j], conds[i]


def generated(rng: random.Random) -> list[dict]:
    """Train and test notes: balanced severities and sexes, every train condition used."""
    n_train, n_test = N_TRAIN_PER_STYLE * len(STYLES), N_TEST_PER_STYLE * len(STYLES)
    rows = []
    for split, n in (("train", n_train), ("test", n_test)):
        conds = list(TRAIN_CONDITIONS) if split == "train" else []
        conds += rng.sample(TRAIN_CONDITIONS, n - len(conds))
        # Within each style, rotate through every severity x sex pairing.
        slots = [(style, SEVERITIES[(k + j) % 3], SEXES[(k + j) % 2])
                 for k, style in enumerate(STYLES) for j in range(n // len(STYLES))]
        rng.shuffle(conds)
        rng.shuffle(slots)
        styles = [s[0] for s in slots]
        _fit_ward_styles(conds, styles)
        for cond, (style, sev, sex) in zip(conds, slots):
            for _ in range(200):  # redraw until the note is short enough and unambiguous
                p = P(rng, draw_age(rng, cond), sex, cond, sev)
                text = STYLE_FUNCS[style](p).replace("..", ".")  # "sev." ending a sentence
                if (WORDS[0] <= len(text.split()) <= WORDS[1] and unambiguous(text, cond, sev)
                        and age_once(text, p.age)):
                    break
            else:
                raise RuntimeError(f"could not write a {style} note for {cond}")
            rows.append(dict(split=split, style=style, note=text,
                             expected=dict(age=p.age, sex=sex, condition=cond, severity=sev)))
    return rows


def build_lines(seed: int = SEED) -> list[str]:
    rows = generated(random.Random(seed))
    rows += [dict(split="unseen_style", style=style, note=text,
                  expected=dict(age=age, sex=sex, condition=cond, severity=sev))
             for style, text, age, sex, cond, sev in UNSEEN]
    return [json.dumps({"id": f"n{i:03d}", **row}, ensure_ascii=False) for i, row in enumerate(rows, 1)]


if __name__ == "__main__":
    lines = build_lines()
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} notes to {OUT}")
