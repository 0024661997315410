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


def test_every_roster_student_with_nothing_counted_is_told_why():
    from rnnlab_grader.roster import Student

    class_list = [Student("s1", "Ada", "Lovelace"), Student("s2", "Grace", "Hopper"), Student("s3", "Alan", "Turing"),
                  Student("s4", "Mia", "Wong", partner="s5"), Student("s5", "Eve", "Ng", partner="s4")]
    results = [result("ada.ipynb", "Ada Lovelace", "Grace Hopper", 4.0),   # Grace never confirms
               result("anon.ipynb", "Nobody Known", "self", 2.0)]          # credited to nobody
    table = credits.credit(results, ["nb1", "nb2"], People(class_list))
    rows = {r.id: r for r in standing.student_rows(table, ["nb1", "nb2"], {"nb1": 5, "nb2": 5})}
    grace = rows["s2"].notes
    assert "nb1: no file counts: you handed in no file we could identify as yours" in grace
    assert "nb1: 1 file(s) could be credited to nobody (see their rows): check whether one is yours" in grace
    assert any("Ada Lovelace named you as partner, but no file of yours names them back" in n for n in grace)
    assert "nb1: no file counts: neither you nor Eve Ng handed one in" in rows["s4"].notes   # a roster pair
    assert not any("Ada Lovelace named you" in n for n in rows["s3"].notes)
    assert not any(n.startswith("nb2") for r in rows.values() for n in r.notes)   # nb2: nothing graded yet
    assert rows["s1"].auto["nb1"] == 4.0 and not any("no file counts" in n for n in rows["s1"].notes)


def test_hand_grading_is_complete_when_every_counted_entry_is_graded():
    results = [result("ada.ipynb", "Ada", "self", 4.0), result("bob.ipynb", "Bob", "self", 3.0)]
    table = credits.credit(results, ["nb1", "nb2"], People(None))
    done, half = (WrittenGrade("q1", 2.0, 2.0, ""),), (WrittenGrade("q1", None, 2.0, ""),)
    hand = {("typed.ada", "nb1"): HandScore(4.0, done), ("typed.bob", "nb1"): HandScore(3.0, half)}
    assert standing.left_to_grade(table, "nb1", hand, 2.0) == (1, 2)
    hand["typed.bob", "nb1"] = HandScore(3.0, done)
    assert standing.left_to_grade(table, "nb1", hand, 2.0) == (0, 2)       # final
    assert standing.left_to_grade(table, "nb1", None, 2.0) == (2, 2)       # no gradebook: nothing known graded
    assert standing.left_to_grade(table, "nb1", None, 0.0) == (0, 2)       # nothing to grade by hand
    assert standing.left_to_grade(table, "nb2", hand, 2.0) == (0, 0)       # nothing counted: not final
