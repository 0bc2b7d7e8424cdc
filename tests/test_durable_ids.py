"""durable_rules finds a fact by a 32-bit FNV-1a hash of its id (research 2.9): two ids that
collide make the second fact a silent duplicate. The runtime's positional ids never collide."""

from __future__ import annotations


def fnv1a_32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def test_the_runtime_fact_ids_do_not_collide_for_a_hundred_thousand_facts() -> None:
    # DurableSession.run numbers the facts of a case f0, f1, ... across all its rounds
    hashes = {fnv1a_32(f"f{n}") for n in range(100_000)}
    assert len(hashes) == 100_000


def test_the_hash_is_durable_rules_own() -> None:
    # the colliding pair reproduced in research/durable-rules.md §2.9
    assert fnv1a_32("ev-791341881573") == fnv1a_32("ev-153660878342")
