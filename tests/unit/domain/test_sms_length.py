"""SMS segments: GSM-7 160/153 with two-unit extension characters, UCS-2 70/67 (Chinese),
characters never split across segments."""

from __future__ import annotations

import pytest

from tiyan.domain.sms_length import sms_length


@pytest.mark.parametrize(("text", "encoding", "units", "segments"), [
    ("", "gsm7", 0, 0),
    ("a" * 160, "gsm7", 160, 1),
    ("a" * 161, "gsm7", 161, 2),
    ("a" * 306, "gsm7", 306, 2),
    ("a" * 307, "gsm7", 307, 3),
    ("€" * 80, "gsm7", 160, 1),  # extension characters count twice
    ("€" * 81, "gsm7", 162, 2),
    ("Reply STOP to opt out: £5 @ café", "gsm7", 32, 1),
    ("中" * 70, "ucs2", 70, 1),
    ("中" * 71, "ucs2", 71, 2),
    ("中" * 134, "ucs2", 134, 2),
    ("中" * 135, "ucs2", 135, 3),
    ("a" * 159 + "中", "ucs2", 160, 3),  # one Chinese character makes the whole text UCS-2
    ("😀" * 35, "ucs2", 70, 1),  # outside the BMP: a surrogate pair, two units
])
def test_segments(text: str, encoding: str, units: int, segments: int) -> None:
    size = sms_length(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_a_two_unit_character_moves_whole_to_the_next_segment() -> None:
    assert sms_length("a" * 152 + "€" + "a" * 10).segments == 2  # 152 + 2 > 153: € starts #2
    assert sms_length("a" * 152 + "€" + "a" * 152).segments == 3  # 2 + 152 > 153 in #2
    assert sms_length("中" * 66 + "😀" + "中" * 66).segments == 3
    assert sms_length("中" * 65 + "😀" + "中" * 66).segments == 2
