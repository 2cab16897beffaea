"""The lessons' drawings (notebooks/figures/*.svg): hand-written SVG that renders offline in
JupyterLab, on GitHub and in VS Code. So each one is well-formed, sized by a viewBox, light behind
its dark text (it must read in a dark theme too), small, self-contained (no script, no link or
image from outside the file), and placed in a lesson with alt text."""
import json
import re
from pathlib import Path

import pytest
from lxml import etree

from utils.core.config import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
FIGURES = NOTEBOOKS / "figures"
DIAGRAMS = sorted(FIGURES.glob("*.svg"))
SVG = "{http://www.w3.org/2000/svg}"
MAX_BYTES = 12_000  # a drawing by hand is a few kB; more means an embedded picture or generated clutter
# Elements that run code or pull content in: an SVG shown as an image ignores them, or breaks.
FORBIDDEN_ELEMENTS = {"script", "foreignObject", "image"}
URL = re.compile(r"url\(\s*['\"]?([^)'\"]*)", re.IGNORECASE)


def parse(path: Path) -> etree._Element:
    # Our own files, still parsed as untrusted: no entities, no DTD, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.parse(str(path), parser).getroot()


def external_references(root: etree._Element) -> list[str]:
    """What in the drawing would run code or fetch something from outside the file."""
    found = []
    for element in root.iter(etree.Element):
        name = etree.QName(element).localname
        if name in FORBIDDEN_ELEMENTS:
            found.append(f"<{name}>")
        for attribute, value in element.attrib.items():
            local = etree.QName(attribute).localname
            if local.startswith("on"):
                found.append(f"{local}= on <{name}>")
            elif local == "href" and not value.startswith("#"):
                found.append(f"href={value!r} on <{name}>")
            found += [f"url({u}) on <{name}>" for u in URL.findall(value) if not u.startswith("#")]
        if name == "style":
            css = element.text or ""
            found += [f"url({u}) in <style>" for u in URL.findall(css) if not u.startswith("#")]
            found += ["@import in <style>"] * ("@import" in css)
    return found


def view_box(root: etree._Element) -> tuple[float, ...]:
    box = tuple(float(n) for n in re.split(r"[\s,]+", root.get("viewBox", "").strip()) if n)
    assert len(box) == 4 and box[2] > 0 and box[3] > 0, f"viewBox {root.get('viewBox')!r}: want 'x y width height'"
    return box


def figure_embeds(markdown: str) -> list[tuple[str, str]]:
    """(alt text, file name) of each drawing a markdown text embeds, from a lesson (figures/) or
    from a notebook one folder down (../figures/)."""
    return re.findall(r"!\[([^\]]*)\]\((?:\.\./)?figures/([^)\s]+\.svg)\)", markdown)


def markdown_embeds() -> dict[str, list[str]]:
    """Figure file name -> the alt texts it is embedded with, in every notebook's markdown cells."""
    found: dict[str, list[str]] = {}
    for path in NOTEBOOKS.rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                for alt, name in figure_embeds("".join(cell["source"])):
                    found.setdefault(name, []).append(alt)
    return found


def test_the_four_drawings_of_the_lessons_are_there():
    assert {p.name for p in DIAGRAMS} >= {"closed_book_vs_retrieval.svg", "lora.svg", "drift_timeline.svg",
                                          "combined_pipeline.svg"}


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_a_drawing_is_small_well_formed_svg_with_a_view_box(path):
    assert path.stat().st_size <= MAX_BYTES, f"{path.name}: {path.stat().st_size:,} bytes, keep it under {MAX_BYTES:,}"
    root = parse(path)
    assert root.tag == f"{SVG}svg", f"{path.name}: the root is {root.tag}, not an SVG <svg>"
    view_box(root)


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_a_drawing_references_nothing_outside_its_file(path):
    assert external_references(parse(path)) == []


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_a_drawing_has_a_white_background_under_everything(path):
    root = parse(path)
    x, y, width, height = view_box(root)
    first = next(e for e in root.iterchildren(etree.Element)
                 if etree.QName(e).localname not in {"title", "desc", "style", "defs"})
    assert etree.QName(first).localname == "rect" and first.get("fill", "").lower() in {"#fff", "#ffffff", "white"}, \
        f"{path.name}: the first shape drawn must be a white rect, so that the dark text reads in a dark theme"
    covered = tuple(float(first.get(attribute, 0)) for attribute in ("x", "y", "width", "height"))
    assert covered[0] <= x + 2 and covered[1] <= y + 2 and covered[2] >= width - 4 and covered[3] >= height - 4, \
        f"{path.name}: the white background {covered} does not cover the viewBox {(x, y, width, height)}"


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda p: p.name)
def test_a_drawing_is_placed_in_a_lesson_with_alt_text(path):
    alts = markdown_embeds().get(path.name)
    assert alts, f"{path.name} is embedded in no notebook: place it before the numbers it explains"
    assert all(alt.strip() for alt in alts), f"{path.name} is embedded without alt text: ![alt text](figures/...)"


def test_figure_embeds_finds_drawings_and_their_alt_text():
    markdown = ("Before the numbers:\n\n![LoRA as W + BA](figures/lora.svg)\n"
                "![](../figures/drift_timeline.svg) and a chart ![x](figures/chart.png), a [link](figures/lora.svg)")
    assert figure_embeds(markdown) == [("LoRA as W + BA", "lora.svg"), ("", "drift_timeline.svg")]


def test_the_reference_check_finds_scripts_links_and_remote_styles(tmp_path):
    drawing = tmp_path / "bad.svg"
    drawing.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">'
        '<style>@import "https://example.org/a.css"; rect { fill: url(#ok); }</style>'
        '<script>alert(1)</script><a xlink:href="https://example.org"><rect onclick="x()"/></a>'
        '<image href="file:///etc/passwd"/><path style="fill: url(https://example.org/p.svg#g)"/></svg>',
        encoding="utf-8")
    assert external_references(parse(drawing)) == [
        "@import in <style>", "<script>", "href='https://example.org' on <a>", "onclick= on <rect>",
        "<image>", "href='file:///etc/passwd' on <image>", "url(https://example.org/p.svg#g) on <path>"]
