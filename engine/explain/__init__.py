"""Scored case -> explanations: the report's context, the trace, what would change the ruling,
and their rendering through the Jinja2 templates of reports/."""
