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
            "> quoted\n> > twice\n\n| t | norm |\n|---|---|\n| 1 | 2 |\n\n<b>bold</b> and <sub>2</sub> ![fig](figures/a.png)")
    clean = sanitise_markdown(text)
    assert clean.startswith("## Q1\nThe norm **falls**") and "](https://pytorch.org/docs/a_(b))" in clean
    assert "> quoted\n> > twice" in clean and "<b>bold</b>" in clean and "<sub>2</sub>" in clean
    assert "| 1 | 2 |" in clean and "![fig](figures/a.png)" in clean
    assert sanitise_markdown("a < b") == "a &lt; b"  # rendered by markdown as "a < b"
