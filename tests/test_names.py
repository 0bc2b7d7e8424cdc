"""Name normalisation (POLICY.md §3): spaces, full width and traditional characters fold;
different characters that sound alike stay different."""

from __future__ import annotations

import pytest

from engine.names import normalise_name


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
