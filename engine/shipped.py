"""Where the default policy (rules/) and the report templates (reports/) are: packaged inside
``engine/_shipped/`` in a wheel, or at the top of a checkout (and of an editable install)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["shipped"]

_PACKAGED = Path(__file__).resolve().parent / "_shipped"
_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """The shipped folder ``name`` ("rules" or "reports")."""
    packaged = _PACKAGED / name
    return packaged if packaged.is_dir() else _CHECKOUT / name
