"""The course's releases: each assignment's student version and instructor version, its points,
and which release a submitted notebook is."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat

from .cells import nbgrader_meta


class CourseSettingsError(ValueError):
    """``course.toml``'s grading settings cannot be used; ``str(error)`` says what to fix."""


def course_settings(course_toml: Path) -> dict:
    """``course.toml`` as a table (empty when there is none): the grading settings ``lms`` and
    ``late`` read from it."""
    import tomllib

    try:
        return tomllib.loads(course_toml.read_text(encoding="utf-8")) if course_toml.is_file() else {}
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CourseSettingsError(f"{course_toml}: {error}") from None


def points(notebook) -> tuple[float, float]:
    """(autograded points, manually graded points) of a notebook's graded cells."""
    auto = manual = 0.0
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            if meta.get("solution"):
                manual += meta.get("points", 0)
            else:
                auto += meta.get("points", 0)
    return auto, manual


@dataclass(frozen=True)
class Release:
    """One assignment's student version (the release) and instructor version (the solution)."""

    assignment: str
    name: str
    notebook: nbformat.NotebookNode
    solution: nbformat.NotebookNode
    max_points: float


def load_releases(root: Path) -> list[Release]:
    """Every notebooks/<assignment>/<name>.ipynb with its solutions/ twin and autograded points."""
    releases = []
    for path in sorted((root / "notebooks").glob("*/*.ipynb")):
        solution = root / "solutions" / path.parent.name / path.name
        if not solution.exists():
            raise FileNotFoundError(f"{path} has no instructor version at {solution}")
        notebook = nbformat.read(path, as_version=4)
        releases.append(Release(path.parent.name, path.stem, notebook, nbformat.read(solution, as_version=4),
                                points(notebook)[0]))
    return releases


def identify(notebook, releases: list[Release]) -> Release | None:
    """The release whose locked cells appear most often, verbatim, in ``notebook``."""
    sources = {cell.source.strip() for cell in notebook.cells}
    best, best_hits = None, 1
    for release in releases:
        hits = sum(1 for c in release.notebook.cells
                   if nbgrader_meta(c).get("locked") and c.source.strip() in sources)
        if hits > best_hits:
            best, best_hits = release, hits
    return best
