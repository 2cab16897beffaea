"""Measured results saved as JSON under the cache folder, so a later notebook can reuse them.

Every notebook still runs alone: `cached_results` recomputes what is missing.
"""
from __future__ import annotations

import json
from typing import Callable

from .config import cache_dir


def results_path(name: str):
    return cache_dir() / "results" / f"{name}.json"


def save_results(name: str, data: dict) -> None:
    path = results_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: a half-written file is never read back


def load_results(name: str) -> dict | None:
    path = results_path(name)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None  # a damaged file is recomputed, not trusted


def cached_results(name: str, compute: Callable[[], dict]) -> dict:
    """The saved results called `name`, or compute and save them."""
    data = load_results(name)
    if data is None:
        data = compute()
        save_results(name, data)
    return data
