"""Compiled rules -> evaluators: durable_rules (``durable``) and plain Python (``reference``)."""
