"""The named step tags (rcnlab.model.steps) and the catalogue read from them."""

import re
from pathlib import Path

from rcnlab.catalogue import CATALOGUE
from rcnlab.model.bitmaps import hand_over
from rcnlab.model.steps import Tag, all_tags

PREFIX = {"LIFE": "fig9", "CREATE": "fig10", "DUPLEX": "fig11", "RESYNC": "fig12", "FAILOVER": "fig13",
          "WRITE": "fig16", "SRC_CREATE": "fig17", "SRC_DUPLEX": "fig18", "SRC_WR": "fig19", "TGT_WR": "fig20",
          "TGT_CREATE": "fig21", "TGT_DUPLEX": "fig22"}


def test_every_tag_is_unique_and_named_for_its_figure():
    tags = all_tags()
    assert len(tags) == len(set(tags))
    for name, value in vars(Tag).items():
        if name.isupper():
            assert re.fullmatch(r"fig\d+:\d+", value), name
            prefix = max((p for p in PREFIX if name.startswith(p + "_")), key=len)
            assert value.split(":")[0] == PREFIX[prefix], name


def test_the_catalogue_keeps_the_patents_order():
    assert list(CATALOGUE) == list(dict.fromkeys(PREFIX.values()))
    assert CATALOGUE["fig17"] == (1701, 1702, 1703, 1704, 1705, 1706, 1707, 1711, 1708, 1709, 1710)
    assert CATALOGUE["fig22"] == tuple(range(2201, 2213))
    assert Tag.SRC_WR_LOG_CREATED == "fig19:1902"


def test_devices_name_their_steps_instead_of_spelling_them():
    devices = Path(__file__).parent.parent / "rcnlab" / "devices"
    for path in [*devices.glob("edge/*.py"), *devices.glob("storage/*.py")]:
        assert not re.search(r"\"fig\d+:\d+\"", path.read_text()), path.name


def test_a_bitmap_is_handed_over_with_what_was_received_and_left_empty():
    own = {1, 5}
    assert hand_over(own, frozenset({5, 9})) == frozenset({1, 5, 9})
    assert own == set()
    assert hand_over(own) == frozenset()
