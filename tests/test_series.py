"""The series benchmark's record (benchmarks/notebooks.py --record writes benchmarks/series.json) and the
notebook times the README, docs/ and the lessons' headers quote from it, checked without running a notebook."""
import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from utils.core import notebook_runner
from utils.core.config import REPO_ROOT

SERIES = REPO_ROOT / "benchmarks" / "series.json"
LESSONS, BONUS = notebook_runner.LESSONS, notebook_runner.BONUS
DOCS = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
TIME_QUOTE = re.compile(r"~\d+ min\b")
NOTEBOOK_NAMED = re.compile(r"notebooks/(?:bonus/)?(\d\d)_\w+\.ipynb|\bnotebook (\d\d)\b")


def load_benchmark():
    """benchmarks/notebooks.py as a module (a script, not part of the installed package)."""
    spec = importlib.util.spec_from_file_location("notebooks_benchmark", REPO_ROOT / "benchmarks" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


benchmark = load_benchmark()


def prose(text: str) -> str:
    """Markdown without its fenced code blocks: a comment in an example is not a quoted time."""
    return re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)


def quoted_times(text: str) -> list[tuple[str | None, list[str], str]]:
    """(the notebook the line names first, the times quoted on it, the line) for each line quoting a time."""
    quotes = []
    for line in prose(text).splitlines():
        if times := TIME_QUOTE.findall(line):
            named = NOTEBOOK_NAMED.search(line)
            quotes.append((named and (named[1] or named[2]), times, line))
    return quotes


def header_times(path) -> list[str]:
    """The times quoted on a lesson's "Time on 2 CPU cores" line."""
    first = "".join(json.loads(path.read_text(encoding="utf-8"))["cells"][0]["source"])
    return [t for line in first.splitlines() if "**Time on" in line for t in TIME_QUOTE.findall(line)]


@pytest.fixture(scope="module")
def series() -> dict:
    return json.loads(SERIES.read_text(encoding="utf-8"))


def test_quoted_minutes_rounds_to_whole_minutes():
    assert [benchmark.quoted_minutes(s) for s in (10, 51, 89, 90, 207, 255)] == \
        ["~1 min", "~1 min", "~1 min", "~2 min", "~3 min", "~4 min"]


def test_quoted_times_reads_the_notebook_each_line_names():
    text = ("| [04 · retrieval](notebooks/04_retrieval.ipynb) | cheaper than notebook 02's retrain | ~5 min |\n"
            "| 0:25 | notebook 01 (~4 min to run) |\n```python\nx = 1  # notebook 04's adapter (~2 min)\n```\n"
            "the series, ~20 min\n")
    assert [(n, t) for n, t, _ in quoted_times(text)] == [("04", ["~5 min"]), ("01", ["~4 min"]), (None, ["~20 min"])]


def test_the_series_covers_every_lesson_from_an_empty_cache(series):
    assert sorted(series["notebooks"]) == [path.stem for path in LESSONS], \
        "a lesson was added or renamed: run benchmarks/notebooks.py --empty-cache --record"
    assert sorted(series.get("bonus", {}).get("notebooks", {})) == [path.stem for path in BONUS], \
        "a bonus lesson was added or renamed: run benchmarks/notebooks.py --record-bonus"
    assert series["empty_cache"] is True, "the README quotes first runs: record the series from an empty cache"
    assert all(n["seconds"] > 0 and n["peak_gb"] > 0 for n in series["notebooks"].values())


def test_every_notebook_time_quoted_is_the_last_series_benchmarks(series):
    """README.md, docs/*.md and the lessons' headers quote a notebook's time as "~N min" on a line that
    names the notebook; N comes from benchmarks/series.json (benchmarks/notebooks.py prints it)."""
    timed = series["notebooks"] | series.get("bonus", {}).get("notebooks", {})
    expected = {name[:2]: benchmark.quoted_minutes(n["seconds"]) for name, n in timed.items()}
    wrong = []
    for path in DOCS:
        for number, times, line in quoted_times(path.read_text(encoding="utf-8")):
            assert number is not None and len(times) == 1, \
                f"{path.name}: {line.strip()!r}: quote one notebook's time a line, on a line that names it"
            if times[0] != expected[number]:
                wrong.append(f"{path.name}: notebook {number} quoted {times[0]}, the series says {expected[number]}")
    for path in LESSONS + BONUS:
        wrong += [f"{path.name} header: {t}, the series says {expected[path.name[:2]]}"
                  for t in header_times(path) if t != expected[path.name[:2]]]
    assert not wrong, "\n".join(wrong)
    in_readme = {number for number, _, _ in quoted_times((REPO_ROOT / "README.md").read_text(encoding="utf-8"))}
    assert in_readme == set(expected), "the README's table of notebooks quotes every notebook's time"


def test_write_sets_the_recording_switches_and_empty_cache_a_new_cache():
    assert benchmark.kernel_settings(empty_cache=False, write=False) == {}
    assert benchmark.kernel_settings(empty_cache=False, write=True) == \
        {"FTRAG_RECORD_REFERENCES": "1", "FTRAG_WRITE_FIGURES": "1"}
    settings = benchmark.kernel_settings(empty_cache=True, write=False)
    cache = settings.pop("FTRAG_CACHE")
    try:
        assert settings == {} and list(Path(cache).iterdir()) == []
    finally:
        shutil.rmtree(cache)


def test_record_writes_each_notebooks_time_memory_and_slowest_cells(tmp_path):
    results = {"00_setup_and_model": {"wall": 50.6, "peak": 1.64e9, "slowest": [(22.7, "model = load_model()")]},
               "01_facts_by_fine_tuning": {"wall": 254.4, "peak": 1.7e9, "slowest": []}}
    path = tmp_path / "series.json"
    benchmark.write_series(results, empty_cache=True, path=path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", saved["date"]) and saved["cpu"] and saved["empty_cache"] is True
    assert saved["cores"] >= 1 and saved["kernels"]
    assert saved["notebooks"] == {
        "00_setup_and_model": {"seconds": 51, "peak_gb": 1.6,
                               "slowest": [{"seconds": 23, "cell": "model = load_model()"}]},
        "01_facts_by_fine_tuning": {"seconds": 254, "peak_gb": 1.7, "slowest": []}}


def test_record_bonus_keeps_the_series_and_record_keeps_the_bonus(tmp_path):
    path = tmp_path / "series.json"
    lesson = {"00_setup_and_model": {"wall": 50.6, "peak": 1.64e9, "slowest": []}}
    bonus = {"08_retrieval_that_misleads": {"wall": 301.2, "peak": 2.5e9, "slowest": [(120.4, "knows_both")]}}
    benchmark.write_series(lesson, empty_cache=True, path=path)
    benchmark.write_bonus(bonus, path=path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["empty_cache"] is True and list(saved["notebooks"]) == ["00_setup_and_model"]
    assert saved["bonus"]["notebooks"] == {"08_retrieval_that_misleads": {
        "seconds": 301, "peak_gb": 2.5, "slowest": [{"seconds": 120, "cell": "knows_both"}]}}
    benchmark.write_series(lesson, empty_cache=True, path=path)  # the series again: the bonus times stay
    assert json.loads(path.read_text(encoding="utf-8"))["bonus"] == saved["bonus"]


@pytest.mark.parametrize("argv", [["02", "--record-bonus"], ["--record", "--record-bonus"],
                                  ["--empty-cache", "--record-bonus"]], ids=["some", "with the series", "empty cache"])
def test_record_bonus_refuses_what_is_not_every_bonus_lesson_from_the_series_cache(argv, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["notebooks.py", *argv])
    monkeypatch.setattr(benchmark, "run", lambda *a, **k: pytest.fail("no notebook may run"))
    with pytest.raises(SystemExit):
        benchmark.main()
    assert "--record" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["02", "--record"], ["--record"]], ids=["some notebooks", "quick"])
def test_record_refuses_what_is_not_the_full_series(argv, monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["notebooks.py", *argv])
    if argv == ["--record"]:
        monkeypatch.setenv("FTRAG_QUICK", "1")
    monkeypatch.setattr(benchmark, "run", lambda *a, **k: pytest.fail("no notebook may run"))
    with pytest.raises(SystemExit):
        benchmark.main()
    assert "--record" in capsys.readouterr().err
