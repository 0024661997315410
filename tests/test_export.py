"""`make export`: the student repository holds what students need and nothing they must not see."""
import os
import subprocess
import sys

import pytest

from notebook_tools import (
    ROOT,
    TORCH_FINGERPRINT,
    protected_lines,
    run_python,
    solution_notebooks,
    source_lines,
    student_version,
    uninstall_rnnlab,
)

sys.path.insert(0, str(ROOT / "scripts"))
from colab import load_repository
from export import export

FORBIDDEN_NAMES = {"solutions", "gradebook.db", "submitted", "autograded", "feedback", "tests", "scripts",
                   "benchmarks", "grader", "rnnlab_grader", "rnnlab_reference", "course.toml", "nbgrader_config.py",
                   "constraints.txt", "Makefile", ".ci"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    destination = tmp_path_factory.mktemp("student-repo")
    (destination / ".git").mkdir()  # a clone of the student repository keeps its history
    (destination / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    export(ROOT, destination)
    return destination


def test_tree_holds_only_what_students_need(exported):
    top = {p.name for p in exported.iterdir()}
    assert top == {".git", "README.md", "data", "environment.yml", "notebooks", "pyproject.toml", "utils"}
    assert [p.name for p in (exported / "data").iterdir()] == ["README.md"]
    assert [p.name for p in (exported / "utils").iterdir()] == ["rnnlab"]
    folder = exported / "notebooks"
    exported_notebooks = sorted(p.relative_to(folder) for p in folder.rglob("*.ipynb"))
    assert exported_notebooks == sorted(student_version(p).relative_to(ROOT / "notebooks")
                                        for p in solution_notebooks())
    names = {p.name for p in exported.rglob("*")}
    assert not names & FORBIDDEN_NAMES, names & FORBIDDEN_NAMES
    assert not [p for p in exported.rglob("*") if p.name == "__pycache__" or p.name.endswith(".egg-info")]
    assert (exported / ".git" / "HEAD").exists()


# Plumbing lines that rnnlab's training loop (which notebook 02 needs) shares with the nb03 loop TODOs;
# one line each, they answer nothing (tests/answer_oracle.py checks what the loop computes).
SHARED_PLUMBING = {"model.train()", "ids, labels = ids.to(device), labels.to(device)",
                   "lengths = check_ids(ids, lengths)"}
# rnnlab's own models (notebook 02's classifier, the references the nb03/nb04 model tests compare with)
# share lines with the model TODOs of nb03 and nb04; those TODOs' visible tests refuse rnnlab's models.
SHARED_MODELS = "utils/rnnlab/models.py"


def test_no_solution_hidden_test_or_mark_scheme(exported):
    protected = protected_lines(*solution_notebooks()) - SHARED_PLUMBING
    for path in exported.rglob("*"):
        if path.is_dir() or ".git" in path.parts:
            continue
        text = path.read_text(errors="replace")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "MARK SCHEME", "Mark scheme"):
            assert marker not in text, f"{path.relative_to(exported)} contains {marker!r}"
        if path.relative_to(exported).as_posix() == SHARED_MODELS:
            continue
        leaked = sorted(protected & source_lines(path))
        assert not leaked, f"{path.relative_to(exported)} holds solution lines: {leaked[:3]}"


def test_readme_is_for_students_and_links_every_notebook(exported):
    readme = (exported / "README.md").read_text()
    repo = load_repository(ROOT)
    for solution in solution_notebooks():
        where = f"notebooks/{solution.parent.name}/{solution.name}"
        assert f"github/{repo.github_path}/blob/{repo.branch}/{where}" in readme
    for topic in ("Colab", "your_partner_name", "profile", "Download .ipynb"):
        assert topic in readme
    assert "{" not in readme.split("```")[0], "an unfilled template field"
    assert "-e .[dev,grade]" not in (exported / "environment.yml").read_text()


def test_export_refuses_a_folder_with_other_content(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(SystemExit, match="thesis.tex"):
        export(ROOT, tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_pip_install_of_the_export_gives_rnnlab_and_keeps_torch(exported, python_with_torch):
    uninstall_rnnlab(python_with_torch)
    torch_before = run_python(python_with_torch, TORCH_FINGERPRINT)
    subprocess.run([str(python_with_torch), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    str(exported)], check=True, capture_output=True, timeout=900)
    out = run_python(python_with_torch, "import rnnlab, rnnlab.probes, rnnlab.plots; print(rnnlab.__file__)")
    assert "site-packages" in out
    assert run_python(python_with_torch, TORCH_FINGERPRINT) == torch_before, "installing rnnlab reinstalled torch"


def test_the_grader_stays_with_the_instructor(exported):
    environment = (exported / "environment.yml").read_text()
    assert "grader" not in environment and "[dev,grade]" not in environment
    for path in exported.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert "rnnlab_grader" not in path.read_text(errors="replace"), path


def _reference_lines() -> set[str]:
    """Every substantial code line of the instructor-only references (docstrings and comments aside)."""
    lines = set()
    for path in (ROOT / "grader" / "rnnlab_reference").glob("*.py"):
        lines |= {line for line in source_lines(path)
                  if len(line) >= 30 and not line.startswith(("#", '"', "r\"", "*", "from ", "import "))}
    return lines


def test_no_reference_body_is_exported(exported):
    references = _reference_lines() - SHARED_PLUMBING
    assert len(references) > 50, "the reference modules were not found"
    for path in exported.rglob("*.py"):
        copied = sorted(references & source_lines(path))
        assert not copied, f"{path.relative_to(exported)} holds lines of rnnlab_reference: {copied[:3]}"
    assert "rnnlab_reference" not in (exported / "environment.yml").read_text()


def test_no_exported_callable_computes_a_graded_answer(exported):
    """Every public callable of the exported package, called with each graded TODO's arguments on
    random input, returns nothing that equals the solution's answer (``tests/answer_oracle.py``)."""
    env = {**os.environ, "PYTHONPATH": str(exported / "utils"), "MPLBACKEND": "Agg", "RNNLAB_DATA": "synthetic"}
    done = subprocess.run([sys.executable, str(ROOT / "tests" / "answer_oracle.py"), "rnnlab"], env=env,
                          capture_output=True, text=True, timeout=600, cwd=exported)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "LEAK" not in done.stdout, done.stdout
    assert "rnnlab: " in done.stdout and str(exported) in done.stdout, done.stdout


def test_the_answer_oracle_finds_the_references():
    """The check above can fail: run on the instructor-only references, it finds each of them."""
    from answer_oracle import find_leaks

    found = {todo for todo, _ in find_leaks(["rnnlab_reference"])}
    assert {"hidden_grad_norms", "input_grad_norms", "gradient_flow", "lstm_state_norms", "evaluate", "lm_loss",
            "perplexity", "recurrent_grad_norm"} <= found, found


INSTRUCTOR_ONLY = ("tests/", "scripts/", "solutions/", "grader/", "benchmarks/", "constraints.txt", "Makefile",
                   "course.toml", "nbgrader_config.py", ".ci/", "[dev", "[grade", "dev,grade")


def test_the_export_refers_to_nothing_it_does_not_contain(exported):
    """No exported text names an instructor-only file, and every relative link resolves."""
    import re

    for path in [exported / "README.md", exported / "data" / "README.md", exported / "pyproject.toml",
                 exported / "environment.yml"]:
        text = path.read_text()
        for name in INSTRUCTOR_ONLY:
            assert name not in text, (path.name, name)
        for link in re.findall(r"\]\(([^)#\s]+)\)", text):
            if "://" not in link:
                assert (path.parent / link).exists(), (path.name, link)
    environment = (exported / "environment.yml").read_text()
    assert "-e .[notebook]" in environment and '".[notebook]"' in (exported / "README.md").read_text()
    assert "RNNLAB_INSTALL_URL" in (exported / "README.md").read_text()


@pytest.mark.slow
def test_the_student_install_route_gives_a_kernel_that_runs_a_notebook(exported, python_with_torch, tmp_path):
    """pip install ".[notebook]" from the export, then Jupyter's own nbconvert executes the first
    notebook's setup cell and first course cells with that environment's kernel."""
    uninstall_rnnlab(python_with_torch)
    subprocess.run([str(python_with_torch), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"{exported}[notebook]"], check=True, capture_output=True, timeout=1200)
    import nbformat

    notebook = nbformat.read(next((exported / "notebooks").glob("01_*/*.ipynb")), 4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    notebook.cells = [c for c in notebook.cells if c.cell_type != "code"][:1] + code[:2]  # setup and imports
    path = tmp_path / "first.ipynb"
    nbformat.write(notebook, path)
    jupyter = python_with_torch.parent / "jupyter"
    env = {**os.environ, "RNNLAB_PROFILE": "grade", "RNNLAB_DATA": "synthetic", "JUPYTER_PATH": "",
           "PATH": f"{python_with_torch.parent}:{os.environ['PATH']}", "JUPYTER_DATA_DIR": str(tmp_path / "jd")}
    done = subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(path),
                           "--output", str(tmp_path / "out.ipynb")], capture_output=True, text=True, timeout=600,
                          env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = nbformat.read(tmp_path / "out.ipynb", 4)
    assert any("profile=grade" in "".join(o.get("text", "") for o in c.outputs) for c in ran.cells
               if c.cell_type == "code"), [c.outputs for c in ran.cells if c.cell_type == "code"]


def test_the_answer_oracle_finds_a_vocabulary_answer_behind_a_classmethod(tmp_path, monkeypatch):
    """A class whose ``build`` classmethod takes token lists and keeps the TODO's ``word -> id`` in an
    attribute is found: the oracle calls alternative constructors, with the arguments a student could
    adapt (``text.split()``), and looks into what they return. ``rnnlab.text.Vocabulary`` breaks ties
    alphabetically, which the graded ``build_vocabulary`` may not (its TODO fixes first-seen order)."""
    from answer_oracle import find_leaks

    package = tmp_path / "leaky"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from collections import Counter\n"
        "class Words:\n"
        "    def __init__(self, stoi):\n"
        "        self.stoi = stoi\n"
        "    @classmethod\n"
        "    def build(cls, token_lists, max_size):\n"
        "        counts = Counter(t for tokens in token_lists for t in tokens)\n"
        "        stoi = {'<pad>': 0, '<unk>': 1}\n"
        "        for word, _ in counts.most_common(max_size - 2):\n"
        "            stoi[word] = len(stoi)\n"
        "        return cls(stoi)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert ("build_vocabulary", "leaky.Words.build") in find_leaks(["leaky"])
