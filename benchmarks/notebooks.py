"""Run every numbered notebook headless (the series, then the bonus lessons in notebooks/bonus/), each
in a fresh kernel, and print what it cost and found.

Per notebook: wall time, peak memory of its kernel, the three slowest cells (where the time goes:
loading, training or generation), and the headline figures it saved (`utils.tasks.results`).
A benchmark, not a test: run it by hand on an otherwise idle machine.

    .venv/bin/python benchmarks/notebooks.py                # with the cache as it is
    .venv/bin/python benchmarks/notebooks.py --empty-cache  # as on a new machine: fetch, convert, train all
    .venv/bin/python benchmarks/notebooks.py 02 04          # some notebooks only
    .venv/bin/python benchmarks/notebooks.py --write        # and save them executed: the committed outputs
    .venv/bin/python benchmarks/notebooks.py --record       # and write benchmarks/series.json

--write saves each executed notebook in place (what nbval compares and a learner reads; run it with the
repository's own cache, so that the printed paths are `.cache/...`). Its kernels run with
FTRAG_RECORD_REFERENCES=1, so the reference figures in tests/references/ are rebased on this run, and
FTRAG_WRITE_FIGURES=1, so the README's summary figure is written.

--record writes benchmarks/series.json: the date, the CPU, whether the cache was empty when the series
started, and per notebook its wall seconds, peak memory and slowest cells. The README and docs/ quote
each notebook's time from it, as `quoted_minutes` prints it ("~4 min"), and tests/test_series.py checks
every quote. It times the whole series, so it takes no notebook numbers; the README quotes a first
run, so record from an empty cache: `--empty-cache --record`, or `--write --record` after deleting
the repository's .cache/. The bonus lessons (notebooks/bonus/) are read after the series, so their times
are from the series' cache: `--record-bonus` runs them alone and keeps the series' record as it was.

Targets on 2 CPU cores: each notebook <= 4 minutes (the seven lessons <= 28 minutes; the bonus lessons,
from the series' cache, 07 <= 8 and 08 <= 6 minutes), peak RSS <= 3.5 GB,
first model fetch and convert (notebook 00 on an empty cache) <= 60 s.
"""
import argparse
import json
import math
import os
import platform
import re
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import nbformat
import torch

from utils.core.config import REPO_ROOT as ROOT
from utils.core.config import cache_dir, quick
from utils.core.notebook_runner import BONUS, LESSONS, run_notebook
from utils.tasks.results import RESULTS, load_results

SERIES = ROOT / "benchmarks" / "series.json"

# Appended to each notebook (in memory only): the kernel reports its own peak resident memory.
PEAK_RSS_CELL = ("import resource, sys\n"
                 "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"
                 " * (1 if sys.platform == 'darwin' else 1024))")


def cell_seconds(cell) -> float:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda t: datetime.fromisoformat(t.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def first_line(cell) -> str:
    lines = [ln for ln in cell.source.splitlines() if ln.strip()]
    return (lines[0] if lines else "")[:70]


PROGRESS_BAR = re.compile(r"\d+%\|.*\|\s*\d+/\d+")


def without_progress_bars(nb) -> None:
    """Drop tqdm's notebook progress bars from the outputs: they are stored as widgets whose text
    shows the bar as it started (0 %), and the cells print what they measured anyway. The widget
    state goes too, unless another widget (notebook 06's explorer) still needs it."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.outputs if not (
                o.output_type == "display_data" and "application/vnd.jupyter.widget-view+json" in o.data
                and PROGRESS_BAR.search(o.data.get("text/plain", "")))]
    if not any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs):
        nb.metadata.pop("widgets", None)


def run(path: Path, timeout: int, write: bool = False) -> dict:
    started = time.perf_counter()
    nb = run_notebook(path, timeout, extra_cell=PEAK_RSS_CELL)
    wall = time.perf_counter() - started
    peak = int(nb.cells.pop().outputs[0]["text"])
    slowest = sorted(nb.cells, key=cell_seconds, reverse=True)[:3]
    result = {"wall": wall, "peak": peak, "slowest": [(cell_seconds(c), first_line(c)) for c in slowest]}
    if write:
        for cell in nb.cells:
            cell.metadata.pop("execution", None)  # timestamps: a diff on every run
        without_progress_bars(nb)
        nbformat.write(nb, path)
    return result


def headline(prefix: str) -> list[str]:
    """The single figures the notebook saved (utils.tasks.results), e.g. "control_lost: 75%"."""
    lines = []
    for kind in [kind for kind in RESULTS if kind.name.startswith(f"{prefix}_")]:
        saved = load_results(kind)
        for key, value in sorted(vars(saved).items() if saved else []):
            if isinstance(value, float) and 0 <= value <= 1 and "seconds" not in key:
                lines.append(f"{key}: {value:.0%}")
            elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
                lines.append(f"{key}: {value:,.1f}" if isinstance(value, float) else f"{key}: {value}")
    return lines


def quoted_minutes(seconds: float) -> str:
    """A notebook's time as the README and docs/ quote it: whole minutes, a half rounded up."""
    return f"~{max(1, math.floor(seconds / 60 + 0.5))} min"


def cpu_model() -> str:
    """The CPU's name as Linux reports it; elsewhere what Python knows of the processor."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def kernel_settings(empty_cache: bool, write: bool) -> dict[str, str]:
    """The settings the notebooks' kernels inherit: a new empty cache, and --write's recording switches."""
    settings = {}
    if empty_cache:
        settings["FTRAG_CACHE"] = tempfile.mkdtemp(prefix="ftrag-bench-")
    if write:
        settings |= {"FTRAG_RECORD_REFERENCES": "1", "FTRAG_WRITE_FIGURES": "1"}
    return settings


def _timings(results: dict[str, dict]) -> dict[str, dict]:
    return {name: {"seconds": round(r["wall"]), "peak_gb": round(r["peak"] / 1e9, 1),
                   "slowest": [{"seconds": round(s), "cell": line} for s, line in r["slowest"]]}
            for name, r in results.items()}


def _saved(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save(record: dict, path: Path) -> dict:
    path.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return record


def write_series(results: dict[str, dict], empty_cache: bool, path: Path = SERIES) -> dict:
    """Save the series' timings (see the module's docstring), keeping the bonus lessons' as they were,
    and return what was saved."""
    record = {
        "date": date.today().isoformat(), "cpu": cpu_model(), "cores": os.cpu_count(),
        "kernels": torch.backends.cpu.get_cpu_capability(), "empty_cache": empty_cache,
        "notebooks": _timings(results),
    }
    if "bonus" in (saved := _saved(path)):
        record["bonus"] = saved["bonus"]
    return _save(record, path)


def write_bonus(results: dict[str, dict], path: Path = SERIES) -> dict:
    """Save the bonus lessons' timings under "bonus" in the series' record, the rest as it was."""
    record = _saved(path) | {"bonus": {"date": date.today().isoformat(), "cpu": cpu_model(),
                                       "cores": os.cpu_count(), "notebooks": _timings(results)}}
    return _save(record, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="notebook numbers to run, e.g. 02 04 (default: all)")
    parser.add_argument("--empty-cache", action="store_true", help="start from an empty cache folder")
    parser.add_argument("--timeout", type=int, default=900, help="seconds a cell may take")
    parser.add_argument("--write", action="store_true",
                        help="save each executed notebook in place (the committed outputs), rebase the "
                             "reference figures and write the README's summary figure")
    parser.add_argument("--record", action="store_true",
                        help=f"write the series' timings to {SERIES.relative_to(ROOT)}")
    parser.add_argument("--record-bonus", action="store_true",
                        help="time the bonus lessons, from a cache that holds the series' adapters, and write "
                             "them to the same file")
    args = parser.parse_args()
    if args.record and args.only:
        parser.error("--record times the whole series: give no notebook numbers")
    if args.record and quick():
        parser.error("--record times the full lessons: unset FTRAG_QUICK")
    if args.record_bonus and (args.only or args.record or args.empty_cache or quick()):
        parser.error("--record-bonus times every bonus lesson, in full, from the series' cache: give no notebook "
                     "numbers, no --record or --empty-cache, and unset FTRAG_QUICK")
    os.environ.update(kernel_settings(args.empty_cache, args.write))
    empty_cache = not any(cache_dir().iterdir())
    chosen = BONUS if args.record_bonus else LESSONS if args.record else LESSONS + BONUS
    notebooks = [p for p in chosen if not args.only or p.name[:2] in args.only]
    results = {}
    for path in notebooks:
        result = results[path.stem] = run(path, args.timeout, args.write)
        print(f"\n{path.name}: {result['wall']:.0f} s ({quoted_minutes(result['wall'])}), "
              f"peak RSS {result['peak'] / 1e9:.1f} GB")
        for seconds, line in result["slowest"]:
            print(f"   {seconds:6.1f} s  {line}")
        for line in headline(path.name[:2]):
            print(f"   {line}")
    print(f"\nall {len(notebooks)} notebooks: {sum(r['wall'] for r in results.values()) / 60:.1f} min")
    if args.record:
        write_series(results, empty_cache)
        print(f"wrote {SERIES.relative_to(ROOT)}")
    if args.record_bonus:
        write_bonus(results)
        print(f"wrote the bonus lessons' timings to {SERIES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
