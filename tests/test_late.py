"""Late work (``rnnlab_grader.late``): due dates and rules from ``course.toml``, Canvas's LATE names,
and what each rule does to the counted file and the student's points."""
import datetime

import pytest

from rnnlab_grader import credits, late, standing
from rnnlab_grader.identity import People
from rnnlab_grader.results import FileResult, ReasonKind

DUE = datetime.datetime(2026, 10, 1, 23, 59, tzinfo=datetime.timezone.utc)


def result(path, name, points, submitted):
    return FileResult(path, "", "nb1", name, "self", points=points, max_points=5.0,
                      submitted_at=(DUE + datetime.timedelta(hours=submitted)).timestamp())


def test_rules_are_read_from_course_toml_and_bad_ones_say_how_to_write_them(tmp_path):
    toml = tmp_path / "course.toml"
    toml.write_text('[late]\nnb1 = { due = 2026-10-01T23:59:00Z, rule = "on-time" }\nnb2 = { penalty = 0.25 }\n')
    assert late.read_rules(toml) == {"nb1": late.LateRule(DUE, "on-time"), "nb2": late.LateRule(None, "penalty", 0.25)}
    assert late.read_rules(tmp_path / "none.toml") == {}
    for bad in ('nb1 = { due = "2026-10-01" }', 'nb1 = { due = 2026-10-01T23:59:00 }', 'nb1 = { rule = "never" }',
                "nb1 = { penalty = 2 }", 'nb1 = "tomorrow"'):
        toml.write_text(f"[late]\n{bad}\n")
        with pytest.raises(late.LateSettingsError, match="course.toml"):
            late.read_rules(toml)


def test_a_file_is_late_by_canvas_s_name_or_after_the_due_date():
    rule = late.LateRule(DUE)
    assert late.is_late(result("ada.ipynb", "Ada", 5, 1), rule)
    assert not late.is_late(result("ada.ipynb", "Ada", 5, -1), rule)
    assert late.is_late(result("lovelaceada_LATE_1001_77_nb.ipynb", "Ada", 5, -1), late.LateRule())
    assert not late.is_late(result("folder/lovelaceada_LATE_1001_77_nb.ipynb", "Ada", 5, -1), late.LateRule())
    (marked,) = late.mark([result("ada.ipynb", "Ada", 5, 1)], {"nb1": late.LateRule(DUE, "penalty", 0.1)})
    assert marked.flags == ("late",) and marked.reasons[-1].kind is ReasonKind.HANDED_IN
    assert marked.reasons[-1].text == "handed in late (due 2026-10-01T23:59:00+00:00): 10% off its autograded points"


def test_each_rule_decides_what_counts_and_what_it_is_worth():
    files = [result("early.ipynb", "Ada", 3.0, -2), result("late.ipynb", "Ada", 5.0, 2)]
    for rule, counted, points, flagged in (("flag", "late.ipynb", 5.0, True), ("on-time", "early.ipynb", 3.0, False),
                                           ("penalty", "late.ipynb", 4.0, True)):
        chosen = late.LateRule(DUE, rule, 0.2 if rule == "penalty" else 0.0)
        marked = late.mark(files, {"nb1": chosen})
        table = credits.credit(marked, ["nb1"], People(None), frozenset({"nb1"} if rule == "on-time" else ()))
        penalties = {"nb1": 0.2} if rule == "penalty" else {}
        (row,) = standing.student_rows(table, ["nb1"], {"nb1": 5}, penalties=penalties)
        assert table.by_student[("typed.ada", "nb1")].result.path == counted, rule
        assert row.auto["nb1"] == points and row.flagged == flagged, rule
    assert "nb1: handed in late: 5 autograded points less 20% = 4" in row.notes
