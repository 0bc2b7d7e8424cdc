"""The limits the loader holds rules to, so that what loads also runs on both evaluators.

durable_rules fails, or silently misbehaves, past some sizes (the project's research notes on
durable_rules); the loader refuses such rules with a located error instead, and the compilers
assert the same limits.
"""

from __future__ import annotations

__all__ = ["MAX_ALTERNATIVES", "MAX_FIELDS", "MAX_PATTERNS"]

MAX_PATTERNS = 16  # facts one durable_rules rule may join
MAX_FIELDS = 240  # fields of one fact type that rules read (durable_rules' fact size)
MAX_ALTERNATIVES = 32  # alternatives a condition may expand to (one durable rule each)
