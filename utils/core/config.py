"""Where things live, and the one place that fixes seeds and threads.

Every notebook starts with `setup()`, so a rerun gives the same numbers.
"""
from __future__ import annotations

import hashlib
import os
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from filelock import FileLock

from utils.core.datafiles import DataError

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"  # the bundled data; FTRAG_DATA may name another folder (data_dir)

SEED = 0
# Two threads is what a workshop laptop (and CI) has to spare; more threads than cores only slows down.
DEFAULT_THREADS = 2


def cache_dir() -> Path:
    """The one git-ignored folder for the converted model, trained adapters and saved results.

    Override with FTRAG_CACHE, e.g. to share a prepared cache from a USB stick in a workshop.
    """
    path = Path(os.environ.get("FTRAG_CACHE", REPO_ROOT / ".cache")).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The data folder the lessons read: FTRAG_DATA, or the bundled data/.

    FTRAG_DATA names a folder laid out like data/ (world/ with the formulary, clinical/ with the
    notes), e.g. an edited copy of it. A relative path is taken from the repository folder, so the
    same setting works in every notebook, whatever folder its kernel runs in.
    """
    setting = os.environ.get("FTRAG_DATA", "").strip()
    if not setting:
        return DATA_DIR
    path = Path(setting).expanduser()
    path = path if path.is_absolute() else REPO_ROOT / path
    if not path.is_dir():
        raise DataError(f"FTRAG_DATA={setting!r}: no such folder ({path}). Set it to a copy of the "
                        f"repository's data/ folder (a relative path starts at the repository folder), "
                        f"or unset it to use the bundled data.")
    return path


def own_data() -> bool:
    """Is FTRAG_DATA set to a folder other than the bundled data/?"""
    return data_dir().resolve() != DATA_DIR.resolve()


def quick() -> bool:
    """FTRAG_QUICK=1: a maintainer's smoke run of every notebook. It is read where the work is
    decided, and nowhere else: where questions and notes are sampled (`quick_sample`, called by the
    evaluation functions of utils.tasks.evaluate), where training is cut (utils.core.train.train_adapter),
    and by the lessons' checks (utils.lessons.checks). What a quick run trains and measures is kept
    apart from full runs' (`artifacts_dir`)."""
    return os.environ.get("FTRAG_QUICK", "").strip() not in ("", "0")


# What a quick run asks of each kind of question (or split of notes): enough for every kind to be
# scored, every table and plot drawn, every helper run; far too few for the figures to mean anything.
QUICK_PER_GROUP = 2


def quick_sample(items: list, group=lambda item: None, per_group: int = QUICK_PER_GROUP) -> list:
    """All `items` in a full run; in a quick run, the first `per_group` of each group (by
    `group(item)`), in their order, so that results still line up with the lists they came from."""
    if not quick():
        return items
    taken: dict = {}
    kept = []
    for item in items:
        key = group(item)
        if taken.get(key, 0) < per_group:
            taken[key] = taken.get(key, 0) + 1
            kept.append(item)
    return kept


def artifacts_dir() -> Path:
    """Where trained adapters and saved results go: a quick run's never feed a full run, and another
    data folder's (FTRAG_DATA) never feed the bundled world's, or each other's: they go to a
    sub-folder of the cache named after the data folder and its full path."""
    path = cache_dir()
    if own_data():
        folder = data_dir().resolve()
        path = path / "own-data" / f"{folder.name}-{hashlib.sha256(str(folder).encode()).hexdigest()[:8]}"
    if quick():
        path = path / "quick"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def build_lock(path: Path, built: Callable[[], bool]):
    """`with build_lock(path, built) as must_build:` build `path` (a trained adapter, the converted model)
    inside the block if must_build. One process builds it; another that needs it meanwhile (a second
    notebook, CI's parallel runs) waits, then finds it built instead of building it again into the same
    place. What is already built is used without the lock (it appears whole, by a rename), so a prepared
    read-only cache works. The lock files sit in a `locks` folder two levels up, so the folders hold only
    what was built."""
    if built():
        yield False
        return
    locks = path.parent.parent / "locks"
    locks.mkdir(parents=True, exist_ok=True)
    with FileLock(locks / f"{path.name}.lock"):
        yield not built()


def device() -> torch.device:
    """A GPU where there is one; everything also runs on a laptop CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int = SEED) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def shown(path: Path) -> str:
    """A path as a notebook may print it: relative to the repository, never a user's home."""
    path = Path(path).resolve()
    if path.is_relative_to(REPO_ROOT):
        return path.relative_to(REPO_ROOT).as_posix()
    cache = cache_dir().resolve()
    if path.is_relative_to(cache):
        return Path("$FTRAG_CACHE", path.relative_to(cache)).as_posix()
    return path.name


def setup(seed: int = SEED, threads: int | None = None) -> dict:
    """Fix seeds and the thread count; returns what was set, for the notebook to show.

    FTRAG_THREADS overrides the thread count (e.g. 4 on a laptop with 4 idle cores).
    """
    threads = threads or int(os.environ.get("FTRAG_THREADS", DEFAULT_THREADS))
    torch.set_num_threads(threads)
    seed_everything(seed)
    settings = {"seed": seed, "threads": threads, "device": str(device()), "cache": shown(cache_dir())}
    if own_data():
        settings["data"] = f"FTRAG_DATA: {shown(data_dir())} (results and adapters kept in {shown(artifacts_dir())})"
    if quick():
        settings["quick"] = "FTRAG_QUICK is set: a smoke run of a few training steps and questions, claims not asserted"
    return settings
