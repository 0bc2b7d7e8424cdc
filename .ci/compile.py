"""Compile the scoring path with mypyc (engine.compiled.MODULES), in place, when its sources
changed since the last build; then record their digests in engine/compiled.json.

    .venv/bin/python .ci/compile.py            # what .ci/setup runs
    .venv/bin/python .ci/compile.py --clean    # remove the compiled modules (plain Python)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import os  # noqa: E402

os.environ["ADJUDICATE_PURE"] = "1"  # this process never loads what it is about to replace
from engine import compiled  # noqa: E402

SETUP = """
from mypyc.build import mypycify
from setuptools import setup

setup(
    name="adjudicate-compiled",
    packages=[],
    ext_modules=mypycify(
        {paths!r}, group_name={group!r}, opt_level="3", target_dir={target!r}
    ),
)
"""


def clean() -> None:
    for paths in compiled.compiled_files().values():  # those of an earlier list too
        for path in paths:
            path.unlink()
    compiled.STAMP.unlink(missing_ok=True)


def build() -> int:
    wanted = compiled.digests()
    try:
        recorded = json.loads(compiled.STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        recorded = None
    present = set(compiled.compiled_files()) == {*compiled.MODULES, compiled.LIBRARY}
    if recorded == wanted and present:
        print("compile: the compiled modules are current")
        return 0
    clean()
    paths = [str(Path(*m.split(".")).with_suffix(".py")) for m in compiled.MODULES]
    with tempfile.TemporaryDirectory(prefix="adjudicate-mypyc-") as tmp:
        setup = Path(tmp) / "setup.py"
        source = SETUP.format(paths=paths, group=compiled.GROUP, target=str(Path(tmp) / "c"))
        setup.write_text(source, encoding="utf-8")
        command = [
            sys.executable, str(setup), "-q", "build_ext", "--inplace",
            "--build-temp", str(Path(tmp) / "temp"), "--build-lib", str(Path(tmp) / "lib"),
        ]  # fmt: skip
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        clean()
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        print("compile: mypyc failed; the engine runs from its sources", file=sys.stderr)
        return 1
    compiled.STAMP.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
    print(f"compile: {len(paths)} modules compiled with mypyc")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove the compiled modules")
    args = parser.parse_args()
    if args.clean:
        clean()
        return 0
    return build()


if __name__ == "__main__":
    sys.exit(main())
