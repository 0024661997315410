"""The course's releases (``rnnlab_grader.releases``): points from the metadata, and which release
a submitted notebook is."""
import nbformat

from notebook_tools import ROOT
from rnnlab_grader.releases import identify, load_releases, points


def test_every_release_has_its_solution_and_its_points():
    releases = load_releases(ROOT)
    assert [r.assignment for r in releases] == sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.is_dir())
    for release in releases:
        auto, manual = points(release.solution)
        assert release.max_points == auto > 0 and manual > 0
        assert points(release.notebook) == (auto, manual)


def test_a_notebook_is_the_release_whose_locked_cells_it_holds():
    releases = load_releases(ROOT)
    for release in releases:
        assert identify(release.solution, releases) is release
    stranger = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('hello')")])
    assert identify(stranger, releases) is None
