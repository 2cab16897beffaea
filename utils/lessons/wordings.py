"""Hand-written question wordings unlike every training wording: load them, check them, and ask them
about every drug of a world. Two sets, both written before any model answered them:

- "held-out" (data/world/heldout_wordings.json), SEALED: written before the reader adapter was tuned on
  varied wording, never used to train or to choose anything. It measures whether a system reads a question
  worded as nobody here wrote its training data (a casual opener, a telegraphic "X approval yr?", a typo,
  the name first or last): the figure the notebooks report.
- "dev" (data/world/dev_wordings.json): other wordings in the same styles, on which a recipe may be chosen
  (benchmarks/reader.py --sets world,dev). Once something was chosen on it, its score flatters.

tests/test_heldout_wordings.py keeps both apart from training: no training wording of the project may
contain one, and no dev frame may equal, contain or be contained in a held-out one.
"""
from __future__ import annotations

import json
import string
from pathlib import Path

from utils.core.config import data_dir as default_data_dir
from utils.core.datafiles import DataError, json_problem, read_text
from utils.tasks.world import DRUG_FIELDS, REVERSED_FIELDS, Question, World

WORDING_FILES = {"held-out": "heldout_wordings.json", "dev": "dev_wordings.json"}
HELDOUT_FILE = WORDING_FILES["held-out"]
# What each list asks: a drug's attribute, or "reversed" (the condition given, the drug asked for).
HELDOUT_ATTRIBUTES = ("treats", "maker", "reversed", "year_approved", "max_daily_dose_mg", "discoverer")


def wording_kinds(wording_set: str) -> tuple[str, ...]:
    """The question kinds heldout_questions gives a set, one an attribute ("held-out maker"...): apart from
    the world's kinds (world.KINDS, which has its own "reversed"), so results of all sets fit one table."""
    return tuple(f"{wording_set} {a}" for a in HELDOUT_ATTRIBUTES)


HELDOUT_KINDS, DEV_KINDS = wording_kinds("held-out"), wording_kinds("dev")
MIN_FRAMES = 8  # styles each list covers: casual, telegraphic, long, lower case, polite, typo, name first, last
NOTE_KEY = "about"  # the file's own note on how it was written and may be used


def heldout_path(data_dir: Path | None = None, wording_set: str = "held-out") -> Path:
    """<data folder>/world/<the set's file> (by default the FTRAG_DATA setting, else the bundled data/)."""
    if wording_set not in WORDING_FILES:
        raise ValueError(f"unknown wording set {wording_set!r}; the sets are {', '.join(WORDING_FILES)}")
    return (default_data_dir() if data_dir is None else Path(data_dir)) / "world" / WORDING_FILES[wording_set]


def heldout_frames(data_dir: Path | None = None, wording_set: str = "held-out") -> dict[str, list[str]]:
    """The frames of each attribute (HELDOUT_ATTRIBUTES order) of a wording set, checked: a DataError names
    the file, the line and what to fix."""
    path = heldout_path(data_dir, wording_set)
    try:
        raw = read_text(path)
        spec = json.loads(raw)
    except FileNotFoundError:
        raise DataError(f"{path}, file: missing; copy {path.name} from the repository's data/world/ "
                        f"(the {wording_set} wordings)") from None
    except json.JSONDecodeError as e:
        line, column, problem = json_problem(raw, e)
        raise DataError(f"{path}, line {line}, column {column}: {problem}") from None

    def fail(where: str, problem: str):
        raise DataError(f"{path}, {where}: {problem}")

    def where(json_path: str, value) -> str:
        # JSON has no line numbers after parsing; find the offending string in the raw text.
        text = json.dumps(value)
        if isinstance(value, str) and text in raw:
            return f"line {raw[:raw.index(text)].count(chr(10)) + 1} ({json_path})"
        return json_path

    if not isinstance(spec, dict):
        fail("$", "expected an object with one list of frames per attribute: " + ", ".join(HELDOUT_ATTRIBUTES))
    unexpected = [k for k in spec if k not in (*HELDOUT_ATTRIBUTES, NOTE_KEY)]
    if unexpected:
        fail(where(f"$.{unexpected[0]}", unexpected[0]), f"unexpected key {unexpected[0]!r}; the keys are "
             f"{', '.join(HELDOUT_ATTRIBUTES)} (and {NOTE_KEY!r}, a note)")
    frames = {}
    for attr in HELDOUT_ATTRIBUTES:
        pool = spec.get(attr)
        if not isinstance(pool, list) or len(pool) < MIN_FRAMES:
            fail(f"$.{attr}", f"expected a list of at least {MIN_FRAMES} question frames, found "
                 f"{len(pool) if isinstance(pool, list) else 'none' if pool is None else type(pool).__name__}")
        allowed = REVERSED_FIELDS if attr == "reversed" else DRUG_FIELDS
        seen: dict[str, int] = {}
        for i, frame in enumerate(pool):
            json_path = f"$.{attr}[{i}]"
            if not isinstance(frame, str) or not frame.strip():
                fail(where(json_path, frame), "expected a non-empty string (a question with a placeholder)")
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(frame) if f is not None]
            except ValueError as e:
                fail(where(json_path, frame), f"broken braces ({e}); a placeholder is written "
                     f"{{{sorted(allowed)[0]}}}")
            if len(fields) != 1 or fields[0] not in allowed:
                fail(where(json_path, frame), f"the frame uses placeholders {fields}; it must use exactly one, "
                     f"{' or '.join('{' + f + '}' for f in sorted(allowed))}")
            key = " ".join(frame.lower().split())
            if key in seen:
                fail(where(json_path, frame), f"the same frame as $.{attr}[{seen[key]}]; write another wording")
            seen[key] = i
        frames[attr] = pool
    return frames


def heldout_questions(world: World, data_dir: Path | None = None, per_fact: int = 1,
                      wording_set: str = "held-out", every: int = 1) -> list[Question]:
    """A wording set asked about every drug of `world` (withdrawn ones too, as world.questions does),
    `per_fact` frames a fact in rotation so every frame is used about equally often: with the default,
    one question a drug and attribute (240 at t0). Kinds are "<set> <attribute>": HELDOUT_KINDS ("held-out
    maker"...) or DEV_KINDS; the answers and accepted aliases are the world's (World.as_of), the drug's
    name for "reversed".

    every: a quicker sample, every n-th drug of each kind (the kinds start at different drugs), the frames
    rotating over the drugs asked, so that the sample too uses every frame about equally often. (Every third
    question of the full list would not: a kind of 9 frames would be asked in only 3 of them.)"""
    frames = heldout_frames(data_dir, wording_set)
    most = min(len(pool) for pool in frames.values())
    if isinstance(per_fact, bool) or not isinstance(per_fact, int) or not 1 <= per_fact <= most:
        raise ValueError(f"per_fact must be a whole number from 1 to {most}, got {per_fact!r}")
    if isinstance(every, bool) or not isinstance(every, int) or not 1 <= every <= len(world.drugs):
        raise ValueError(f"every must be a whole number from 1 to {len(world.drugs)}, got {every!r}")
    out = []
    for k, (attr, kind) in enumerate(zip(HELDOUT_ATTRIBUTES, wording_kinds(wording_set))):
        pool = frames[attr]
        for i, drug in enumerate(list(world.drugs.values())[k % every::every]):
            for j in range(per_fact):
                frame = pool[(i * per_fact + j) % len(pool)]
                if attr == "reversed":
                    out.append(Question(kind, frame.format(treats=drug.treats), drug.name, drug.name, "treats"))
                else:
                    text = frame.format(drug=drug.name, drug_lower=drug.name.lower())
                    out.append(world.as_of(Question(kind, text, "", drug.name, attr)))
    return out
