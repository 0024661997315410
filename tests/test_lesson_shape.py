"""One lesson shape across the series (student versions): badge, title, setup, the pair cell,
numbered sections, titled and numbered TODOs, one Questions section, and a Summary at the end."""
import re

import nbformat
import pytest

from notebook_tools import nbgrader_meta, solution_notebooks, student_version

NOTEBOOKS = [student_version(p) for p in solution_notebooks()]


def headings(notebook):
    return [(i, line) for i, c in enumerate(notebook.cells) if c.cell_type == "markdown"
            for line in c.source.splitlines() if line.startswith("#")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.parent.name for p in NOTEBOOKS])
def test_every_notebook_has_the_series_shape(path):
    notebook = nbformat.read(path, 4)
    cells = notebook.cells
    number = path.parent.name[:2]
    assert "colab-badge" in cells[0].metadata.get("tags", []), "the Colab badge comes first"
    assert cells[1].source.startswith(f"# Notebook {number} — "), "then the title"
    assert cells[2].cell_type == "markdown" and cells[2].source.startswith("## Setup"), "then the Setup section"
    code = [nbgrader_meta(c).get("grade_id") for c in cells if c.cell_type == "code"]
    assert code[:4] == ["setup_install", "setup", "pair_names", "test_pair_names"], code[:4]
    pair = next(i for i, c in enumerate(cells) if nbgrader_meta(c).get("grade_id") == "pair_names")
    assert cells[pair - 1].source.startswith("### Who is working on this notebook?")
    found = headings(notebook)
    sections = [int(m.group(1)) for _, h in found if (m := re.match(r"## (\d+)\. ", h))]
    assert sections == list(range(1, len(sections) + 1)), sections
    todos = [h for _, h in found if h.startswith("### TODO")]
    assert todos and all(re.fullmatch(r"### TODO \d+: \S.*", h) for h in todos), todos
    assert [int(re.match(r"### TODO (\d+)", h).group(1)) for h in todos] == list(range(1, len(todos) + 1))
    questions = [h for _, h in found if re.match(r"## \d+\. Questions \(graded by hand", h)]
    assert len(questions) == 1 and not any("Discussion" in h for _, h in found), questions
    last_markdown = max(i for i, c in enumerate(cells) if c.cell_type == "markdown")
    assert cells[last_markdown].source.strip() == "## Summary"
    assert [nbgrader_meta(c).get("grade_id") for c in cells[last_markdown + 1:]] == ["course_summary"]
