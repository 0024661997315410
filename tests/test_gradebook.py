"""The instructor's side on one real notebook (the smallest): a roster, the pair's results in the
course's nbgrader gradebook for formgrader (sanitised, counted, named), hand grades that survive
grading again and re-releasing and reach the per-student table, the LMS files and the feedback
pages, nbgrader's own feedback without hidden tests, and formgrader itself in headless Chromium.

A scratch course released by ``scripts/release.py`` (its gradebook is nbgrader's own), three
submissions: a pair's perfect notebook handed in by both partners (one shared notebook: the same
pair cell), one of them with a ``<script>`` in a written answer; and a student alone with the
untouched release. The Canvas file names identify the submitters.
"""
import csv
import html
import json
import shutil
import subprocess
import sys
import time

import nbformat
import pytest

from formgrader_browser import formgrader, wait_until
from notebook_tools import ROOT, nbgrader_meta, solution_notebooks, student_version

sys.path.insert(0, str(ROOT / "scripts"))
import release

ASSIGNMENT = "01_bptt_by_hand"
ROSTER = """id,first_name,last_name,email,section,canvas_id,sis_user_id,sis_login_id,moodle_id
s001,Ada,Lovelace,ada@uni.edu,A,1001,SIS1,alovelace,M1
s002,Grace,Hopper,grace@uni.edu,A,1002,SIS2,ghopper,M2
s003,Sol,Alone,sol@uni.edu,B,1003,SIS3,salone,M3
"""
PAIR = "s001+s002"
PRINTED = "A LINE THIS SUBMISSION PRINTED"  # shown to the instructor, never on a student's page
SCRIPT = "<script>fetch('/api/contents/pwned.txt', {method: 'PUT'}); document.title = 'PWNED';</script>"


def with_names(notebook, name, partner):
    for cell in notebook.cells:
        if nbgrader_meta(cell).get("grade_id") == "pair_names":
            cell.source = f"your_name = {name!r}\nyour_partner_name = {partner!r}"
    return notebook


def grade(folder, course, *extra):
    done = subprocess.run([sys.executable, "-m", "rnnlab_grader.cli", str(folder), "--root", str(course),
                           "--out", str(course / "by-file.csv"), "--students", str(course / "students.csv"),
                           "--gradebook", str(course / "gradebook.db"), "--roster", str(course / "roster.csv"),
                           "--canvas", str(course / "canvas.csv"), "--moodle", str(course / "moodle.csv"),
                           "--feedback", str(course / "feedback"), "--jobs", "2", *extra],
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout + done.stderr
    return {r["id"]: r for r in csv.DictReader((course / "students.csv").open(newline=""))}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    work = tmp_path_factory.mktemp("gradebook")
    course = release.scratch_course(ROOT, work / "course")
    (course / "roster.csv").write_text(ROSTER)
    solution = next(s for s in solution_notebooks() if s.parent.name == ASSIGNMENT)
    folder = course / "downloads"
    folder.mkdir()
    perfect = with_names(release.perfect_submission(solution, student_version(solution)),
                         "Ada Lovelace", "Grace Hopper")
    perfect.cells.insert(3, nbformat.v4.new_code_cell(f"print({PRINTED[:12]!r} + {PRINTED[12:]!r})"))  # both files
    nbformat.write(perfect, folder / f"lovelaceada_1001_501_{solution.name}")
    for cell in perfect.cells:
        if nbgrader_meta(cell).get("grade_id") == "q1_rnn_decay":
            cell.source += f"\n\n{SCRIPT}\n<img src=x onerror=\"document.title='PWNED'\">"
    perfect.cells.insert(3, nbformat.v4.new_code_cell(
        f"print({SCRIPT!r})\ndisplay({{'text/html': {SCRIPT!r}}}, raw=True)"))
    nbformat.write(perfect, folder / f"hoppergrace_1002_502_{solution.name}")
    alone = with_names(nbformat.read(student_version(solution), 4), "Sol Alone", "self")
    nbformat.write(alone, folder / f"alonesol_1003_503_{solution.name}")
    first = grade(folder, course)
    return {"course": course, "folder": folder, "solution": solution, "first": first}


def hidden_lines(solution):
    lines, inside = [], False
    for cell in nbformat.read(solution, 4).cells:
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    assert len(lines) > 10
    return lines


@pytest.mark.slow
def test_the_pair_is_one_sanitised_counted_entry(course):
    from nbgrader.api import Gradebook

    students = course["first"]
    assert students["s001"][ASSIGNMENT] == students["s002"][ASSIGNMENT] == "19"
    assert students["s001"]["student"] == "Ada Lovelace" and students["s001"]["flagged"] == ""
    assert students["s003"][ASSIGNMENT] == "1" and students["s003"][f"{ASSIGNMENT}_written"] == "0"
    with Gradebook(f"sqlite:///{course['course'] / 'gradebook.db'}") as gradebook:
        submissions = {s.student.id: s for s in gradebook.assignment_submissions(ASSIGNMENT)}
        assert set(submissions) == {PAIR, "s003"}  # the pair once, the student alone once
        pair = submissions[PAIR]
        assert (pair.student.last_name, pair.student.first_name) == ("Ada Lovelace", "Grace Hopper")
        grades = pair.notebooks[0].grades
        assert sum(g.auto_score for g in grades if g.auto_score is not None) == 19
        assert pair.needs_manual_grade and sum(1 for g in grades if g.auto_score is None) == 6
    for stage in ("submitted", "autograded"):
        folder = course["course"] / stage / PAIR / ASSIGNMENT
        assert (folder / "timestamp.txt").read_text().strip().endswith("UTC")
        copy = nbformat.read(folder / course["solution"].name, 4)
        markdown = "\n".join(c.source for c in copy.cells if c.cell_type == "markdown")
        assert "<script" not in markdown and "onerror" not in markdown and "Your answer" in markdown
        outputs = [o for c in copy.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert any(o.output_type == "stream" for o in outputs)  # what the sandboxed run printed ...
        assert any("image/png" in o.get("data", {}) for o in outputs)  # ... and drew
        assert all(set(o.get("data", {})) <= {"image/png"} for o in outputs)  # never HTML or JavaScript


@pytest.mark.slow
def test_lms_files_and_nbgraders_own_commands(course):
    canvas = list(csv.reader((course["course"] / "canvas.csv").open(newline="")))
    assert canvas[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert canvas[1][0] == "Points Possible"
    assert ["Lovelace, Ada", "1001", "SIS1", "alovelace", "A", "19"] in [line[:6] for line in canvas]
    moodle = list(csv.reader((course["course"] / f"moodle-{ASSIGNMENT}.csv").open(newline="")))
    assert ["Grace", "Hopper", "M2", "grace@uni.edu", "19"] in [line[:5] for line in moodle]
    assert all(line[4] != "" for line in moodle[1:])  # no blank cell, which would clear a grade in Moodle
    env = release.tool_env()
    done = subprocess.run(["nbgrader", "generate_feedback", ASSIGNMENT, "--force"], cwd=course["course"], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    pages = list((course["course"] / "feedback").rglob("*.html"))
    nbgrader_pages = [p for p in pages if p.parent.name == ASSIGNMENT]
    assert len(nbgrader_pages) == 2 and len(pages) == 5  # nbgrader's (pair, Sol) and rnnlab's (3 students)
    graded = nbformat.read(course["course"] / "autograded" / PAIR / ASSIGNMENT / course["solution"].name, 4)
    assert any(PRINTED in o.get("text", "") for c in graded.cells if c.cell_type == "code" for o in c.outputs)
    for page in pages:
        text = page.read_text()
        assert PRINTED not in text, page  # nbgrader's pages clear every output a submission produced
        for line in hidden_lines(course["solution"]):
            assert line not in text, (page, line)
        assert "rnnlab_reference" not in text and "<script>fetch" not in text
    refused = subprocess.run(["nbgrader", "autograde", ASSIGNMENT, "--force"], cwd=course["course"], env=env,
                             capture_output=True, text=True, timeout=600)
    assert "turned off" in refused.stdout + refused.stderr


@pytest.mark.slow
def test_hand_grades_partial_then_complete_survive_regrading(course):
    from nbgrader.api import Gradebook

    url = f"sqlite:///{course['course'] / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        grades = gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0].grades
        written = sorted((g for g in grades if g.auto_score is None), key=lambda g: g.name)
        written[0].manual_score = 2.0  # two of six written answers graded so far
        written[1].manual_score = 1.0
        gradebook.db.commit()
        comment = next(c for c in gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0].comments
                       if c.name == written[0].name)
        comment.manual_comment = "Good <b>reasoning</b>"
        gradebook.db.commit()
    students = grade(course["folder"], course["course"], "--resume")
    ada = students["s001"]
    assert (ada[ASSIGNMENT], ada[f"{ASSIGNMENT}_written"]) == ("19", "3") and "2 of 6 graded" in ada["reason"]
    page = (course["course"] / "feedback" / "s002" / f"{ASSIGNMENT}.html").read_text()
    assert "2 of 6 graded so far" in page and "Good &lt;b&gt;reasoning&lt;/b&gt;" in page

    with Gradebook(url) as gradebook:
        grades = gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0].grades
        for g in grades:
            if g.auto_score is None:
                g.manual_score = 1.0 if g.manual_score is None else g.manual_score
        next(g for g in grades if g.name == "test_clip").manual_score = 1.0  # and overrides a test
        comments = gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0].comments
        next(c for c in comments if c.name == "clip_by_global_norm").manual_comment = "Scale <i>once</i>"
        gradebook.db.commit()
    assert release.main(["--root", str(course["course"])]) == 0  # re-releasing keeps hand grades
    students = grade(course["folder"], course["course"], "--resume")
    ada = students["s001"]
    assert (ada[ASSIGNMENT], ada[f"{ASSIGNMENT}_written"], ada["total"]) == ("18", "7", "25"), ada
    assert "graded" not in ada["reason"] and students["s002"]["total"] == "25"
    page = (course["course"] / "feedback" / "s001" / f"{ASSIGNMENT}.html").read_text()  # the page agrees
    assert "Autograded points: <b>18 / 19</b>" in page and "1 / 2 (changed by the instructor)" in page
    assert "clip_by_global_norm</td><td>Scale &lt;i&gt;once&lt;/i&gt;" in page


AWKWARD = {"a  b.ipynb": ("s001", "Ada Lovelace"), "-draft.ipynb": ("s002", "Grace Hopper"),
           "d" * 150 + "/" + "e" * 143 + ".ipynb": ("s003", "Sol Alone")}  # the last: 300 characters


@pytest.mark.slow
def test_awkward_file_names_reach_every_output(course, tmp_path):
    """Names a table must change (two spaces, a leading "-", 300 characters) are kept as handed in
    by the results, so each file reaches the gradebook, the similarity report, feedback and every
    table (#31); the three are one solution copied, so each is marked similar to the others."""
    from nbgrader.api import Gradebook

    work = tmp_path / "course"
    shutil.copytree(course["course"], work, ignore=shutil.ignore_patterns("downloads"))
    folder = tmp_path / "awkward"
    for name, (_, student) in AWKWARD.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(with_names(release.perfect_submission(course["solution"], student_version(course["solution"])),
                                  student, "self"), folder / name)
    students = grade(folder, work, "--out", str(work / "awkward-by-file.csv"),
                     "--similarity", str(work / "similarity.html"))
    by_file = list(csv.DictReader((work / "awkward-by-file.csv").open(newline="")))
    assert sorted(r["submission"] for r in by_file) == sorted(["a b.ipynb", "'-draft.ipynb",
                                                               ("d" * 150 + "/" + "e" * 143)[:199] + "…"])
    assert all(r["total"] == "19" and r["similar_to"] for r in by_file)
    page = (work / "similarity.html").read_text()
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    for name, (sid, _) in AWKWARD.items():
        assert html.escape(name) in page, name
        assert scores[sid] == 19 and (work / "autograded" / sid / ASSIGNMENT / course["solution"].name).is_file()
        assert html.escape(name) in (work / "feedback" / sid / f"{ASSIGNMENT}.html").read_text()
        assert students[sid][ASSIGNMENT] == "19" and students[sid]["flagged"] == "FLAGGED", students[sid]
    canvas = {line[1]: line for line in csv.reader((work / "canvas.csv").open(newline=""))}
    moodle = {line[3]: line for line in csv.reader((work / f"moodle-{ASSIGNMENT}.csv").open(newline=""))}
    assert [canvas[i][5] for i in ("1001", "1002", "1003")] == ["19", "19", "19"]
    assert [moodle[e][4] for e in ("ada@uni.edu", "grace@uni.edu", "sol@uni.edu")] == ["19", "19", "19"]


@pytest.mark.slow
def test_formgrader_in_a_real_browser(course, tmp_path):
    """Jupyter on 127.0.0.1, formgrader in headless Chromium: the pair's submission is listed and
    opens, the student's script does not run, and a grade entered there reaches grades.csv."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    with formgrader(course["course"], tmp_path) as (chrome, base):
        wait = WebDriverWait(chrome, 60)
        chrome.get(f"{base}/formgrader/api/assignment/{ASSIGNMENT}")  # what formgrader's assignment list counts
        counted = json.loads(chrome.find_element(By.TAG_NAME, "body").text)
        assert counted["num_submissions"] == 2, counted
        chrome.get(f"{base}/formgrader/manage_submissions/{ASSIGNMENT}")
        wait.until(EC.presence_of_element_located((By.XPATH, "//*[contains(text(), 'Ada Lovelace, Grace Hopper')]")))
        assert "None, " not in chrome.page_source and ", Ada" not in chrome.page_source
        chrome.get(f"{base}/formgrader/gradebook/{ASSIGNMENT}/{course['solution'].stem}")
        wait.until(EC.presence_of_element_located((By.XPATH, "//a[contains(@href, '/formgrader/submissions/')]")))
        anchors = chrome.find_elements(By.XPATH, "//a[contains(@href, '/formgrader/submissions/')]")
        links = {a.get_attribute("href") for a in anchors}
        assert len(links) == 2, links
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course['course'] / 'gradebook.db'}") as gradebook:
            pair_id = gradebook.find_submission_notebook(course["solution"].stem, ASSIGNMENT, PAIR).id
        assert any(href.endswith(pair_id) for href in links)
        chrome.get(f"{base}/formgrader/submissions/{pair_id}")
        score = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input.score")))
        assert "Your answer" in chrome.page_source and PRINTED in chrome.page_source  # sandboxed output shown
        # the maths is typeset by the server's own MathJax: this machine has no network for a CDN
        wait.until(lambda page: page.execute_script("return !!(window.MathJax && MathJax.isReady)"))
        sources = chrome.execute_script("return Array.from(document.scripts, s => s.src)")  # MathJax adds scripts
        assert any("/static/jupyter_server_mathjax/MathJax.js" in s for s in sources), sources
        assert not any("cdnjs" in s for s in sources)
        wait.until(lambda page: page.execute_script("return document.querySelectorAll('.MathJax').length > 0"))
        time.sleep(2)  # time for a script to run, if one could
        assert chrome.title != "PWNED" and not (course["course"] / "pwned.txt").exists()
        score.clear()
        score.send_keys("0.5")
        score.send_keys("\t")  # formgrader saves on blur

        def saved():
            with Gradebook(f"sqlite:///{course['course'] / 'gradebook.db'}") as gradebook:
                notebook = gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0]
                return any(g.manual_score == 0.5 for g in notebook.grades)

        wait_until(saved, 30, "formgrader saving the score typed")
        with Gradebook(f"sqlite:///{course['course'] / 'gradebook.db'}") as gradebook:
            alone_id = gradebook.find_submission_notebook(course["solution"].stem, ASSIGNMENT, "s003").id
        chrome.get(f"{base}/formgrader/submissions/{alone_id}")  # the untouched release: why each test failed
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "input.score")))
        assert "Autograder: failed because `rnn_forward`" in chrome.page_source, "no verdict under a failed test"
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course['course'] / 'gradebook.db'}") as gradebook:
        grades = gradebook.find_submission(ASSIGNMENT, PAIR).notebooks[0].grades
        assert any(g.manual_score == 0.5 for g in grades), [(g.name, g.manual_score) for g in grades]
        expected = sum(g.score for g in grades)
    students = grade(course["folder"], course["course"], "--resume")
    ada = students["s001"]
    assert float(ada[ASSIGNMENT]) + float(ada[f"{ASSIGNMENT}_written"]) == expected, ada
