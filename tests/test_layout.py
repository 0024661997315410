"""The repository keeps the shape the course design promises."""
import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_ci_calls_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme


def test_layout_exists():
    for path in ["README.md", "environment.yml", "pyproject.toml", "Makefile", "nbgrader_config.py", "course.toml",
                 "solutions", "notebooks", "data/README.md", "tests", "benchmarks", "utils/rnnlab/__init__.py"]:
        assert (ROOT / path).exists(), path


def test_nbgrader_directories():
    config = (ROOT / "nbgrader_config.py").read_text()
    assert 'source_directory = "solutions"' in config and 'release_directory = "notebooks"' in config


def test_package_requirements_are_loose_and_dev_pins_live_in_constraints():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if "==" in d], "pin only in constraints.txt"
    assert "torch==2.13.0" in (ROOT / "constraints.txt").read_text()
    env = (ROOT / "environment.yml").read_text()
    for dep in project["dependencies"]:
        assert re.split(r"[<>=]", dep)[0] in env, f"{dep} missing from environment.yml"


def test_grading_artefacts_and_data_are_ignored():
    ignored = (ROOT / ".gitignore").read_text().split()
    for entry in ["gradebook.db", "submitted/", "autograded/", "feedback/", "data/*", "!data/README.md", "build/"]:
        assert entry in ignored, entry
