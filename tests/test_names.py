"""Name normalisation (POLICY.md §3): spaces, full width and traditional characters fold;
different characters that sound alike stay different."""

from __future__ import annotations

import pytest

from engine.cases.names import normalise_name, scripts


@pytest.mark.parametrize(
    ("written", "recipient"),
    [
        ("张 伟", "张伟"),
        ("张\u3000伟", "张伟"),
        ("張偉", "张伟"),
        ("ＺＨＡＮＧ　ＷＥＩ", "ZHANG WEI"),
        ("阿卜杜·热合曼", "阿卜杜•热合曼"),
        ("买买提・艾力", "买买提艾力"),
    ],
)
def test_these_names_match(written: str, recipient: str) -> None:
    assert normalise_name(written) == normalise_name(recipient)


@pytest.mark.parametrize(
    ("written", "recipient"), [("张玮", "张伟"), ("李娜", "李那"), ("王芳", "汪芳")]
)
def test_soundalikes_do_not_match(written: str, recipient: str) -> None:
    assert normalise_name(written) != normalise_name(recipient)


@pytest.mark.parametrize(
    "disguised",
    ["张\u200b伟", "\u202e张伟", "张伟\u200d", "张\x00伟", "张\u2060伟"],
    ids=["zero-width space", "right-to-left override", "zero-width joiner", "NUL", "word joiner"],
)
def test_invisible_characters_neither_split_nor_disguise_a_name(disguised: str) -> None:
    assert normalise_name(disguised) == normalise_name("张伟")


def test_a_cyrillic_look_alike_is_a_different_name_and_shows_as_mixed_scripts() -> None:
    latin, cyrillic = "Zhang Wei", "Zh\u0430ng Wei"  # U+0430 CYRILLIC SMALL LETTER A
    assert normalise_name(latin) != normalise_name(cyrillic)
    assert scripts(cyrillic) == {"LATIN", "CYRILLIC"}
    assert scripts("张伟") == {"HAN"} and scripts("Anna 李") == {"LATIN", "HAN"}
