"""``python -m engine.cli``: the same command as ``adjudicate``."""

from engine.cli import main

main()
