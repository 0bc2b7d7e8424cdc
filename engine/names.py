"""Person names compared the way POLICY.md §3 says: spacing, full width and script folded.

Drop all white space (including the ideographic space U+3000) and separator dots, fold full-width
forms to half-width (NFKC), convert traditional to simplified Chinese (OpenCC's ``t2s``), then
compare exactly: different characters that sound alike stay different.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc

__all__ = ["normalise_name"]

_SEPARATORS = frozenset("·•・‧･.．")
_T2S = opencc.OpenCC("t2s")


@lru_cache(maxsize=65536)
def normalise_name(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text)
    kept = "".join(ch for ch in folded if not ch.isspace() and ch not in _SEPARATORS)
    return str(_T2S.convert(kept)).casefold()
