"""The Colab badge and setup cell of every student notebook, rendered from course.toml.

Cells are found by their tags: ``colab-badge`` (markdown) and ``setup`` (code). The setup
cell installs ``rnnlab`` only when it is missing, pins torch to the version already there
(Colab ships one; pip then never reinstalls it), and can be pointed elsewhere with the
``RNNLAB_INSTALL_URL`` environment variable (tests install from a local checkout that way).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tomllib

BADGE_TAG, SETUP_TAG = "colab-badge", "setup"
COLAB_BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"


@dataclass(frozen=True)
class StudentRepository:
    url: str      # https://github.com/<owner>/<repo>
    branch: str

    @property
    def github_path(self) -> str:
        """``<owner>/<repo>`` from the URL."""
        prefix = "https://github.com/"
        if not self.url.startswith(prefix):
            raise ValueError(f"course.toml: student_repository.url must start with {prefix}, got {self.url!r}")
        return self.url[len(prefix):].strip("/").removesuffix(".git")

    @property
    def install_url(self) -> str:
        return f"git+{self.url.rstrip('/')}.git@{self.branch}"


def load_repository(root: Path) -> StudentRepository:
    table = tomllib.loads((root / "course.toml").read_text())["student_repository"]
    return StudentRepository(table["url"], table["branch"])


def badge_source(repo: StudentRepository, assignment: str, name: str) -> str:
    link = f"https://colab.research.google.com/github/{repo.github_path}/blob/{repo.branch}/notebooks/{assignment}/{name}"
    return f"[![Open In Colab]({COLAB_BADGE_SVG})]({link})"


def setup_source(repo: StudentRepository) -> str:
    return f'''# Setup: run this cell first. On Colab it installs the course package `rnnlab` (about 30 s);
# where rnnlab is already installed it does nothing. It never reinstalls torch.
# Without network: in your clone of the course repository run `pip install -e .`, or set
# RNNLAB_INSTALL_URL to a folder or URL pip can install rnnlab from, then run this cell again.
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("rnnlab") is None:
    from importlib.metadata import version

    source = os.environ.get("RNNLAB_INSTALL_URL", "{repo.install_url}")
    keep_torch = [f"torch=={{version('torch')}}"] if importlib.util.find_spec("torch") else []
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source, *keep_torch],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stderr[-1500:], file=sys.stderr)
        raise RuntimeError(f"Could not install rnnlab from {{source}} (no network?). In a clone of the course "
                           "repository run `pip install -e .` in a terminal, or set the environment variable "
                           "RNNLAB_INSTALL_URL to a folder or URL pip can install rnnlab from; then run this "
                           "cell again.") from None
    importlib.invalidate_caches()'''


def render(notebook, repo: StudentRepository, assignment: str, name: str) -> int:
    """Rewrite the tagged cells in place; returns how many were rewritten."""
    count = 0
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if BADGE_TAG in tags:
            cell.source, count = badge_source(repo, assignment, name), count + 1
        elif SETUP_TAG in tags:
            cell.source, count = setup_source(repo), count + 1
    return count
