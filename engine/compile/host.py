"""The only module that imports durable_rules: one thread-less host per process.

Guards against the failure modes measured in research/durable-rules.md: no background threads
(``SyncHost``), one session per case deleted in ``finally``, a guard rule so that every session
fires (deleting a session in which nothing fired segfaults), a sink rule so that no fact is
refused, positional fact ids (no 32-bit hash collisions), and every action wrapped so that an
exception in it is raised here instead of being swallowed. Rulesets are registered once per
process under a name carrying the rules' digest; durable_rules cannot unregister them.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from engine.compile.durable import GUARD, SINK, to_durable
from engine.errors import EngineError
from engine.model import Firing
from engine.rules.program import KEY, ROUND, Program

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import durable_rules_engine as _native
    from durable import engine as _durable

__all__ = [
    "DurableEvaluator",
    "DurableSession",
    "crash_durable_rules",
    "ruleset_name",
    "shared_host",
]


class _SyncHost(_durable.Host):  # type: ignore[misc]
    """A Host without its timer threads: actions run only inside assert_facts."""

    def _run(self) -> None:
        return None


class _Recorder:
    """Where the generated actions of one ruleset write, for the session being scored."""

    def __init__(self) -> None:
        self.firings: set[Firing] | None = None
        self.errors: list[str] = []
        self.started = False  # the guard rule fired in the current session


_HOST: _SyncHost | None = None
_RECORDERS: dict[str, _Recorder] = {}


def shared_host() -> _SyncHost:
    """The process's one durable_rules host (made on first use; it runs no timer threads)."""
    global _HOST
    if _HOST is None:
        _HOST = _SyncHost()
    return _HOST


def ruleset_name(program: Program) -> str:
    return f"{program.name}@{program.version}+{program.digest.removeprefix('sha256:')[:16]}"


def _action(recorder: _Recorder, rule_id: str, aliases: tuple[str, ...]) -> Callable[[Any], None]:
    def action(c: Any) -> None:  # exactly one parameter: durable_rules checks the signature
        try:
            matched = c._m
            bindings = tuple((alias, matched[alias][KEY]) for alias in aliases)
            if recorder.firings is None:
                raise RuntimeError("an action ran outside a session")
            recorder.firings.add(Firing(rule_id, bindings))
        except BaseException as exc:  # durable_rules would swallow it: keep it for the caller
            recorder.errors.append(f"{rule_id}: {exc!r}")

    return action


def _guard(recorder: _Recorder) -> Callable[[Any], None]:
    def guard(c: Any) -> None:
        recorder.started = True

    return guard


def _noop(c: Any) -> None:
    return None


def _reset_host() -> None:
    """Drop the host after a failure inside durable_rules: its C state may be corrupt.

    Its rulesets stay allocated (durable_rules cannot free them); the next case builds a new
    host and registers the rulesets again.
    """
    global _HOST
    _HOST = None
    _RECORDERS.clear()


def _register(program: Program) -> tuple[str, _Recorder]:
    name = ruleset_name(program)
    if name in _RECORDERS:
        return name, _RECORDERS[name]
    recorder = _Recorder()
    definition = to_durable(program)
    by_id = {rule.id: rule for rule in program.rules}
    for durable_id, body in definition.items():
        if durable_id in (GUARD, SINK):
            body["run"] = _guard(recorder) if durable_id == GUARD else _noop
            continue
        rule = by_id[durable_id.rsplit("#", 1)[0]]
        body["run"] = _action(recorder, rule.id, tuple(a.name for a in rule.aliases))
    try:
        shared_host().register_rulesets({name: definition})
    except Exception as exc:
        raise EngineError(f"durable_rules refused the ruleset {name}: {exc}") from exc
    _RECORDERS[name] = recorder
    return name, recorder


class DurableSession:
    """One case's session: facts asserted round by round, firings collected."""

    def __init__(self, name: str, sid: str, recorder: _Recorder) -> None:
        self.name = name
        self.sid = sid
        self.recorder = recorder
        self.counter = 0
        self.broken = False

    def run(self, stratum: int, facts: Iterable[Mapping[str, Any]]) -> set[Firing]:
        batch = []
        for fact in facts:
            batch.append({**fact, "id": f"f{self.counter}", "sid": self.sid, ROUND: stratum})
            self.counter += 1
        fired: set[Firing] = set()
        self.recorder.firings = fired
        self.recorder.errors = []
        try:
            state = shared_host().assert_facts(self.name, batch)
        except _durable.MessageNotHandledException as exc:  # pragma: no cover - the sink
            raise EngineError(f"durable_rules refused a fact: {exc}") from exc
        except _native.error as exc:
            self.broken = True
            raise EngineError(f"durable_rules failed: {exc}") from exc
        except MemoryError as exc:
            self.broken = True
            raise EngineError(f"durable_rules ran out of sessions or memory: {exc}") from exc
        finally:
            self.recorder.firings = None
        errors = list(self.recorder.errors)
        if isinstance(state, dict) and state.get("exception"):
            errors.append(str(state["exception"]))
        if errors:
            raise EngineError("an action failed inside durable_rules: " + "; ".join(errors))
        return fired


class DurableEvaluator:
    """Compiles a Program to durable_rules once per process and scores cases with it."""

    name = "durable"

    def __init__(self, program: Program) -> None:
        self.program = program
        self.ruleset, self.recorder = _register(program)
        self._serial = 0

    @contextmanager
    def session(self) -> Iterator[DurableSession]:
        if _RECORDERS.get(self.ruleset) is not self.recorder:  # the host was dropped since
            self.ruleset, self.recorder = _register(self.program)
        self._serial += 1
        sid = str(self._serial)
        session = DurableSession(self.ruleset, sid, self.recorder)
        self.recorder.started = False
        try:
            yield session
        finally:
            if session.broken or (session.counter and not self.recorder.started):
                # never delete a session after a failure in the C core (its state may be
                # corrupt) or one in which nothing fired (delete_state segfaults): drop the
                # host, and the next session is made on a fresh one
                _reset_host()
            elif session.counter:
                try:
                    shared_host().delete_state(self.ruleset, sid)
                except Exception as exc:  # noqa: BLE001 - a failed delete must be seen
                    raise EngineError(
                        f"durable_rules could not delete session {sid}: {exc}"
                    ) from exc

    def definition_json(self) -> str:
        return json.dumps(to_durable(self.program), ensure_ascii=False, indent=2, sort_keys=True)


def crash_durable_rules() -> None:
    """TEST HOOK, never called in production: make durable_rules' C core crash this process.

    durable_rules 2.0.28 segfaults when a fact carries a float written in exponent form (its
    JSON reader rejects it and the action dispatcher then dereferences a bad pointer). The
    engine never sends floats (facts hold integers), so no case file can do this; the hook lets
    the tests show what a crash of the C core does to a batch: a real SIGSEGV, not a mock.
    """
    host = _SyncHost()
    host.register_rulesets({"crash": {"r": {"all": [{"d": {"t": "x"}}], "run": _noop}}})
    host.assert_facts("crash", [{"id": "f0", "sid": "0", "t": "x", "v": 1e-05}])
