"""utils/tasks/systems.py: each system (and each way of updating one) named once, with a label and a colour."""
import colorsys

import pytest
from matplotlib.colors import to_rgb

from utils.tasks.systems import SYSTEMS, UPDATES, colours, label, labelled, named


@pytest.mark.parametrize("registry", [SYSTEMS, UPDATES], ids=["systems", "updates"])
def test_every_id_has_a_label_and_a_colour_of_its_own(registry):
    assert all(key == s.id and s.label and s.what for key, s in registry.items())
    assert len({s.colour.lower() for s in registry.values()}) == len(registry)
    assert all(to_rgb(s.colour) for s in registry.values())  # a colour matplotlib draws


def test_ids_and_labels_are_unique_across_systems_and_updates():
    everything = [*SYSTEMS.values(), *UPDATES.values()]
    assert len({s.id for s in everything}) == len({s.label for s in everything}) == len(everything)
    assert len(colours()) == len(everything)


def luminance(colour: str) -> float:
    """Relative luminance (WCAG): how light a colour looks, whatever its hue."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in to_rgb(colour)]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_two_readers_differ_in_hue_and_in_lightness():
    """Not two shades of one colour: their hues lie far apart, and one is clearly darker (what a
    colour-blind reader and a washed-out projector still see)."""
    base_reader, reader = SYSTEMS["base_reader"].colour, SYSTEMS["reader"].colour
    (h1, _, _), (h2, _, _) = colorsys.rgb_to_hls(*to_rgb(base_reader)), colorsys.rgb_to_hls(*to_rgb(reader))
    assert min(abs(h1 - h2), 1 - abs(h1 - h2)) >= 0.25  # at least 90 degrees apart on the colour wheel
    lighter, darker = sorted((luminance(base_reader), luminance(reader)), reverse=True)
    assert (lighter + 0.05) / (darker + 0.05) >= 2  # WCAG contrast between the two


def test_an_update_has_the_colour_of_the_system_it_updates():
    assert UPDATES["full_retrain"].colour == SYSTEMS["fine_tuned"].colour
    assert UPDATES["edit_documents"].colour == SYSTEMS["reader"].colour


def test_labelled_keys_values_by_label_in_their_order():
    assert labelled({"reader": 1, "fine_tuned": 2, "edit_documents": 3}) == {
        "retrieval + reader adapter": 1, "fine-tuned, closed book": 2, "edit documents": 3}
    assert list(labelled({"reader": 1, "fine_tuned": 2})) == [label("reader"), label("fine_tuned")]


def test_an_unknown_id_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"no system or update has the id 'retrieval \+ reader adapter'.*'reader'"):
        named("retrieval + reader adapter")
