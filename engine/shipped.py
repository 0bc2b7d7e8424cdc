"""Where the default policy (rules/) and the report templates (reports/) are: packaged inside
``engine/_shipped/`` in a wheel, or at the top of a checkout (and of an editable install)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

__all__ = ["messages", "shipped"]

_PACKAGED = Path(__file__).resolve().parent / "_shipped"
_CHECKOUT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """The shipped folder ``name`` ("rules" or "reports")."""
    packaged = _PACKAGED / name
    return packaged if packaged.is_dir() else _CHECKOUT / name


@lru_cache(maxsize=4)
def _catalogue(path: str) -> dict[str, Any]:
    text = Path(path).read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=yaml.CSafeLoader)
    return data


def messages(folder: Path | str | None = None) -> dict[str, Any]:
    """The message catalogue ``messages.yaml`` of a reports folder (the shipped one by default):
    every word the engine and its reports print that is not a rule's own text."""
    return _catalogue(str(Path(folder or shipped("reports")) / "messages.yaml"))
