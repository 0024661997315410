"""Which graded file counts for which student (``rnnlab_grader.credits``), on typed results; the
roster cases are in ``test_identity.py``."""
from rnnlab_grader import tables
from rnnlab_grader.results import FileResult, Reason, ReasonKind


def test_student_table_credits_confirmed_pairs_and_flags_one_sided_claims():
    """Without a roster: a pair counts when both name each other; a claim the other side does not
    confirm is flagged on the claimant and gives the named student nothing; a file without names
    gets a flagged row of its own."""
    from rnnlab_grader import credits, identity, standing

    records = [
        _file_row("ada.ipynb", "Ada", "Grace", "4", "test_x failed"),
        _file_row("grace.ipynb", "grace ", "Ada", "3"),           # the partner's copy: the same pair
        _file_row("alan.ipynb", "Alan", "self", "3"),             # alone
        _file_row("alan2.ipynb", "Alan", "Ada", "5"),             # Alan claims Ada, who does not name him
        _file_row("anon.ipynb", "", "", "2"),                     # no names: a flagged row, not lost
        _file_row("zed.ipynb", "Zed", "Mia", "5", assignment="nb2"),  # Mia handed in nothing
        _file_row("other.ipynb", "Zed", "self", "9", assignment=""),  # not a course notebook
    ]
    people = identity.People(None)
    table = credits.credit(records, ["nb1", "nb2"], people)
    rows = {r["student"]: r for r in (tables.student_row(row, ["nb1", "nb2"]) for row in
                                      standing.student_rows(table, ["nb1", "nb2"], {"nb1": 5, "nb2": 7}))}
    assert set(rows) == {"Ada", "Grace", "Alan", "Zed", "(unidentified) anon.ipynb"}  # as first written
    assert rows["Ada"]["nb1"] == rows["Grace"]["nb1"] == "4"  # the pair's best file counts for both
    assert rows["Grace"]["flagged"] == "" and rows["Grace"]["max_total"] == "12"
    assert rows["Ada"]["id"] == "typed.ada" and "test_x failed" in rows["Ada"]["reason"]
    assert rows["Alan"]["nb1"] == "5" and rows["Alan"]["flagged"] == "FLAGGED"   # his own best, never 3 + 5
    assert "alan2.ipynb names Ada as partner, who does not name you back" in rows["Alan"]["reason"]
    assert "Alan" not in rows["Ada"]["reason"] and rows["Ada"]["nb1"] == "4"     # nothing changes for Ada
    assert "Mia" not in rows and "who handed in no file" in rows["Zed"]["reason"]
    assert rows["(unidentified) anon.ipynb"]["flagged"] == "FLAGGED" and rows["(unidentified) anon.ipynb"]["nb2"] == ""


def _file_row(submission, name, partner, total, reason="", assignment="nb1"):
    return FileResult(submission, your_name=name, your_partner_name=partner, assignment=assignment,
                      points=float(total), reasons=(Reason(ReasonKind.CELL, reason),) if reason else ())
