"""The grader's HTML pages (Jinja2, autoescaped: no text from a student, the roster or a comment is markup)."""
from __future__ import annotations

import jinja2

ENVIRONMENT = jinja2.Environment(loader=jinja2.PackageLoader("rnnlab_grader", "templates"), autoescape=True,
                                 undefined=jinja2.StrictUndefined)


def get_template(name: str) -> jinja2.Template:
    return ENVIRONMENT.get_template(name)
