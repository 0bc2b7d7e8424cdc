"""Lines of a byte stream, each read with a bound: how JSON Lines archives are read.

A line is never held whole past ``limit`` bytes: a longer one (a gzip bomb's 1 GiB line, say) is
read through in pieces of at most that size and reported by its length alone, so reading an
archive costs no more memory than its longest acceptable line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Protocol

__all__ = ["bounded_lines"]

_PIECE = 1 << 16  # bytes read at a time through the rest of a line over the limit


class _Readable(Protocol):
    def readline(self, size: int = -1, /) -> bytes: ...


def bounded_lines(stream: _Readable | IO[bytes], limit: int) -> Iterator[tuple[bytes | None, int]]:
    """``(line, size)`` for each line of ``stream`` (its newline included); a line longer than
    ``limit`` bytes (without its newline) is ``(None, size)``."""
    while raw := stream.readline(limit + 1):
        if len(raw) <= limit or raw.endswith(b"\n"):
            yield raw, len(raw)
            continue
        size = len(raw)
        del raw  # not kept while the rest of the line is read through
        while piece := stream.readline(_PIECE):
            size += len(piece)
            if piece.endswith(b"\n"):
                break
        yield None, size
