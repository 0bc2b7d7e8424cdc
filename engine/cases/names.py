"""Person names compared the way POLICY.md §3 says: spacing, full width and script folded.

Drop all white space (including the ideographic space U+3000) and separator dots, fold full-width
forms to half-width (NFKC), convert traditional to simplified Chinese (OpenCC's ``t2s``), then
compare exactly: different characters that sound alike stay different. Invisible characters
(control and format characters: zero-width spaces, direction marks) are dropped too, so that they
can neither make two equal names differ nor be used to disguise one. Latin letters are compared
without case. ``scripts`` tells which writing systems a name mixes (a warning for arbitrators:
"张伟" written with a Cyrillic look-alike letter is a different name).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

__all__ = ["normalise_name", "scripts"]

_SEPARATORS = frozenset("·•・‧･.．")
_INVISIBLE = frozenset({"Cc", "Cf"})
_T2S = opencc.OpenCC("t2s")
_ASCII_LETTER = re.compile("[A-Za-z]")  # what str.isalpha holds for in ASCII text
_HAN_ONLY = re.compile("[\u4e00-\u9fff]+")  # the CJK Unified Ideographs block, nothing else
_LATIN = frozenset({"LATIN"})
_HAN = frozenset({"HAN"})
_NONE: frozenset[str] = frozenset()


@lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(
        ch
        for ch in folded
        if not ch.isspace() and ch not in _SEPARATORS and unicodedata.category(ch) not in _INVISIBLE
    )
    return str(_T2S.convert(kept)).casefold()


def scripts(text: str) -> frozenset[str]:
    """The writing systems of the letters of ``text``: HAN, LATIN, CYRILLIC, GREEK, ..."""
    if text.isascii():
        return _LATIN if _ASCII_LETTER.search(text) else _NONE
    if _HAN_ONLY.fullmatch(text):
        return _HAN
    found = set()
    for ch in unicodedata.normalize("NFKC", text):
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        if name.startswith("CJK"):
            found.add("HAN")
        elif name:
            found.add(name.split(" ")[0])
    return frozenset(found)
