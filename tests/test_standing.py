"""Each student's typed row (``rnnlab_grader.standing``): counted points, hand grades, notes, and
files credited to nobody."""
from rnnlab_grader import credits, standing
from rnnlab_grader.gradebook import HandScore, WrittenGrade
from rnnlab_grader.identity import People
from rnnlab_grader.results import FileResult, SimilarFile


def result(path, name, partner, points, assignment="nb1", **changes):
    return FileResult(path, "", assignment, name, partner, points=points, max_points=5.0, **changes)


def test_rows_add_counted_and_hand_graded_points():
    results = [result("ada.ipynb", "Ada", "self", 4.0), result("ada2.ipynb", "Ada", "self", 3.0, "nb2"),
               result("anon.ipynb", "", "", 2.0)]
    table = credits.credit(results, ["nb1", "nb2"], People(None))
    answers = (WrittenGrade("q1", 2.0, 2.0, ""), WrittenGrade("q2", None, 2.0, ""))
    hand = {("typed.ada", "nb1"): HandScore(auto=4.5, answers=answers)}
    rows = {r.label: r for r in standing.student_rows(table, ["nb1", "nb2"], {"nb1": 5, "nb2": 5}, hand,
                                                      {"nb1": 4, "nb2": 0})}
    ada = rows["Ada"]
    assert (ada.auto, ada.written, ada.total, ada.max_total) == ({"nb1": 4.5, "nb2": 3.0}, {"nb1": 2.0, "nb2": None},
                                                                  9.5, 14)
    assert ada.points("nb1") == 6.5 and "nb1: written answers 1 of 2 graded" in ada.notes
    assert ada.files == ("ada.ipynb", "ada2.ipynb") and not ada.flagged
    stray = rows["(unidentified) anon.ipynb"]
    assert stray.student is None and stray.flagged and stray.auto == {"nb1": 2.0} and stray.id == ""


def test_a_file_similar_to_another_flags_its_student_and_changes_no_points():
    results = [result("eve.ipynb", "Eve", "self", 5.0, similar=(SimilarFile("ada.ipynb", 0.97),)),
               result("ada.ipynb", "Ada", "self", 5.0, similar=(SimilarFile("eve.ipynb", 0.97),))]
    table = credits.credit(results, ["nb1"], People(None))
    eve = next(r for r in standing.student_rows(table, ["nb1"], {"nb1": 5}) if r.label == "Eve")
    assert eve.flagged and eve.total == 5.0
    assert "nb1: eve.ipynb is similar to ada.ipynb (0.97) (see the similarity report)" in eve.notes
