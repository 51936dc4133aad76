"""The one set of refused characters: the regex class equals unicodedata's categories, code point by code point."""

from __future__ import annotations

import re
import unicodedata

from cloudctl.values import ONE_LINE_PATTERN, REFUSED_CATEGORIES, control_character


def test_the_refused_class_is_exactly_the_categories() -> None:
    wrong = [cp for cp in range(0x110000)
             if (unicodedata.category(chr(cp)) in REFUSED_CATEGORIES) != (control_character(chr(cp)) is not None)]
    assert wrong == []


def test_the_schema_pattern_says_the_same() -> None:
    one_line = re.compile(ONE_LINE_PATTERN)
    for ok in ("财政厅", "a b", "x\ue08b"):  # a private-use rare character passes, as official names need
        assert one_line.match(ok) and control_character(ok) is None
    for bad in ("", "   ", "a\x1b[31m", "a\u202eb", "a\u2028b", "\u200b"):
        assert not one_line.match(bad)
