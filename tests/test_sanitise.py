"""Student markdown is inert before formgrader renders it (``rnnlab_grader.sanitise``)."""
import re

import pytest

from rnnlab_grader.sanitise import sanitise_markdown

ATTACKS = [
    "<script>fetch('/api/contents')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<svg><a xlink:href='javascript:alert(1)'><text>x</text></a></svg>",
    "<iframe src='javascript:alert(1)'></iframe>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href='JaVaScRiPt&#58;alert(1)'>x</a>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<object data='data:text/html,<script>alert(1)</script>'></object>",
    "<form action='javascript:alert(1)'><button>x</button></form>",
    "<div style='background:url(javascript:alert(1))'>x</div>",
    "<details open ontoggle=alert(1)>x</details>",
    "[click](javascript:alert(1))",
    "[click](java&#115;cript:alert(1))",
    "[click](  javascript:alert(1) 'title')",
    "[click](javascript\\:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click][r]\n\n[r]: javascript:alert(1)",
    "![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<p>ok</p><!-- <script>alert(1)</script> -->",
    "<scr<script>ipt>alert(1)</script>",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_that_runs_survives(text):
    clean = sanitise_markdown(text).lower()
    assert "<script" not in clean and "<svg" not in clean and "<iframe" not in clean and "<object" not in clean
    assert not re.search(r"\son\w+\s*=", clean), clean
    assert "javascript:" not in clean.replace("&#58;", ":") and "style=" not in clean and "<form" not in clean
    assert not re.search(r"\]\(\s*<?\s*(java|data)", clean), clean
    assert not re.search(r"^\s*\[r\]:\s*(java|data)", clean, re.M), clean


def test_honest_markdown_keeps_its_meaning():
    text = ("## Q1\nThe norm **falls** by *10x* per step: see [the docs](https://pytorch.org/docs/a_(b)).\n\n"
            "> quoted\n> > twice\n\n| t | norm |\n|---|---|\n| 1 | 2 |\n\n"
            "<b>bold</b> and <sub>2</sub> ![fig](figures/a.png)")
    clean = sanitise_markdown(text)
    assert clean.startswith("## Q1\nThe norm **falls**") and "](https://pytorch.org/docs/a_(b))" in clean
    assert "> quoted\n> > twice" in clean and "<b>bold</b>" in clean and "<sub>2</sub>" in clean
    assert "| 1 | 2 |" in clean and "![fig](figures/a.png)" in clean
    assert sanitise_markdown("a < b") == "a &lt; b"  # rendered by markdown as "a < b"


def test_outputs_of_the_sandboxed_run_are_bounded_text_and_checked_pngs():
    """What a run reports as outputs is display only: bounded per report, PNGs checked with Pillow,
    and only stdout text and image/png reach the graded copy."""
    import base64
    import io
    import json

    import nbformat
    import PIL.Image

    from rnnlab_grader import gradebook, verdicts

    buffer = io.BytesIO()
    PIL.Image.new("RGB", (4, 3)).save(buffer, format="PNG")
    png = base64.b64encode(buffer.getvalue()).decode()
    fake = base64.b64encode(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>").decode()
    big = "x" * 20_000
    lines = [{"t": "output", "index": 0, "text": "<b>hi</b>", "png": [png, fake]},
             {"t": "output", "index": 1, "text": 5, "png": []},                       # not text: left out
             {"t": "output", "index": 2, "text": "ALL TESTS PASSED", "png": []},       # a test cell: left out
             {"t": "output", "index": 0, "text": "a second claim", "png": []},         # one output per cell
             *({"t": "output", "index": 10 + i, "text": big, "png": []} for i in range(400)),  # past the budget
             {"t": "end"}]
    display = b"\n".join(json.dumps(line).encode() for line in lines)
    shown = {0, 1, *range(10, 410)}  # the plan's answer and course cells; 2 is a test cell
    outputs = verdicts.parse_display(display + b"\n\xff{not json", shown)
    assert set(outputs) >= {0} and not {1, 2} & set(outputs) and outputs[0]["text"] == "<b>hi</b>"
    assert sum(len(o["text"]) for o in outputs.values()) <= verdicts.MAX_OUTPUT_CHARS
    report = verdicts.parse(display)  # output lines on the verdict's channel are not part of its schema
    assert report.finished and report.malformed_lines == len(lines) - 1 and not report.cells
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("print('<b>hi</b>')"), nbformat.v4.new_markdown_cell("x")]
    gradebook.add_outputs(notebook, {0: outputs[0], 1: {"text": "not a code cell"}, "x": {}, 7: {"text": "no cell"}})
    outputs = notebook.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data"] and outputs[0].text == "<b>hi</b>"
    assert list(outputs[1].data) == ["image/png"] and outputs[1].data["image/png"] == png  # the fake PNG is dropped
    assert "outputs" not in notebook.cells[1]


def test_names_and_tags_reaching_formgrader_carry_no_markup():
    import nbformat

    from rnnlab_grader.sanitise import plain_name, sanitise_notebook

    assert plain_name('Ada <img src=x onerror="alert(1)"> Lovelace\x1b') == "Ada img src=x onerror= alert(1) Lovelace"
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("x", metadata={"tags": ["ok-tag", 'x" onclick="alert(1)']})]
    sanitise_notebook(notebook)
    assert notebook.cells[0].metadata["tags"] == ["ok-tag"]


def test_images_from_other_sites_are_not_loaded():
    """A tracking pixel in a written answer would tell its owner when the instructor read it (#32)."""
    html_pixel = sanitise_markdown('Answer <img src="https://tracker.example/p.png?s=1" alt="px"> and '
                                   '<img src="//tracker.example/q.png"> <img src="figures/decay.png" alt="mine">')
    assert "tracker.example" not in html_pixel and 'src="figures/decay.png"' in html_pixel
    markdown_pixel = sanitise_markdown("![seen](https://tracker.example/p.png) and ![fig](figures/a.png) "
                                       '![t](HTTPS://tracker.example/t.png "title")')
    assert "tracker.example" not in markdown_pixel and "![fig](figures/a.png)" in markdown_pixel
    assert "[image not shown: seen]" in markdown_pixel
    assert sanitise_markdown("[docs](https://pytorch.org/docs)") == "[docs](https://pytorch.org/docs)"  # links stay
