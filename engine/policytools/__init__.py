"""The policy staff's tools: rule tests written in YAML, coverage, agreement with decisions."""
