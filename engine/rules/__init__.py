"""rules/ YAML -> the compiled ``Program`` (loading, expressions, strata)."""
