"""Write makers.csv: where each maker of the fictional formulary is based and when it was founded.

    python data/makers/make_makers.py          # rewrite makers.csv next to this file

The makers are read from the world's drugs_*.csv (data/world/); countries are real, the makers
invented, so a model cannot already know the answers. The file sits outside data/world/ on purpose:
notebook 04 indexes the world's leaflets, and maker profiles added there would move the series'
figures. Rerunning must reproduce the committed file byte for byte (tests/test_misleading.py checks
this).
"""
import argparse
import csv
import random
from pathlib import Path

SEED = 2026
HERE = Path(__file__).resolve().parent
COLUMNS = ["maker", "country", "founded"]
COUNTRIES = ["Norway", "Portugal", "Canada", "Ireland", "Austria", "Chile", "Denmark", "Belgium",
             "Finland", "New Zealand", "Switzerland", "Uruguay"]
# Every maker is older than its drugs (approved from 1990 on), and no two share a year or a country,
# so "In which year was the maker of X founded?" has one answer and names one maker.
FOUNDED = range(1890, 1986)


def world_makers(world_dir: Path) -> list[str]:
    """Every maker named in the world's drugs_*.csv, sorted."""
    makers = set()
    for path in sorted(world_dir.glob("drugs_*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as f:
            makers.update(row["maker"].strip() for row in csv.DictReader(f))
    if not makers:
        raise SystemExit(f"{world_dir}: no drugs_*.csv with makers; give the world folder (--world)")
    return sorted(makers)


def make_rows(makers: list[str], seed: int = SEED) -> list[dict]:
    rng = random.Random(seed)
    if len(makers) > len(COUNTRIES):
        raise SystemExit(f"{len(makers)} makers but {len(COUNTRIES)} countries; add countries to COUNTRIES")
    countries, years = rng.sample(COUNTRIES, len(makers)), rng.sample(FOUNDED, len(makers))
    return [{"maker": m, "country": c, "founded": y} for m, c, y in zip(makers, countries, years)]


def write_makers(world_dir: Path, out_dir: Path) -> Path:
    path = Path(out_dir) / "makers.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(make_rows(world_makers(Path(world_dir))))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=HERE.parent / "world", help="the world folder to read")
    parser.add_argument("--out", type=Path, default=HERE, help="output folder (default: next to this script)")
    args = parser.parse_args()
    print("wrote", write_makers(args.world, args.out))
