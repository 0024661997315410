"""Student markdown made inert before formgrader (or any page) renders it.

formgrader renders a graded copy's markdown cells as HTML on the instructor's Jupyter origin, so a
``<script>`` or an ``onerror=`` in a written answer would run as the instructor. Every markdown and
raw cell of a copy this grader writes goes through ``sanitise_markdown``:

* HTML is cleaned by ``nh3`` (the Rust ``ammonia`` sanitiser) to an allowlist of formatting tags
  and attributes; scripts, styles, event handlers, ``iframe``/``object``/``svg``/``math`` and
  forms are removed, text outside tags is escaped;
* link and image targets written in markdown syntax (``[x](javascript:...)``, ``[x]: ...``) keep
  only ``http``, ``https``, ``mailto`` or relative URLs, whatever entities, backslashes or
  spaces hide the scheme; anything else becomes ``#``;
* images load only from relative paths (the notebook's own figures): an ``<img>`` or
  ``![x](...)`` pointing at another site (a tracking pixel that tells its owner when the
  instructor opened the answer) loses its source and shows its alt text;
* line-start ``>`` (a markdown quote, not a tag) is put back after cleaning.

Code cells need none of this: formgrader shows their source as highlighted text. Outputs are
dropped from graded copies.
"""
from __future__ import annotations

import html
import re
import unicodedata

import nh3

TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
        "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "td": {"align", "colspan", "rowspan"}, "th": {"align", "colspan", "rowspan"}}
SCHEMES = {"http", "https", "mailto"}
INLINE_TARGET = re.compile(r"(\]\(\s*)(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)")
REFERENCE_TARGET = re.compile(r"^( {0,3}\[[^\]\n]+\]:\s*)(\S+)", re.M)
QUOTE = re.compile(r"^((?:[ \t]*&gt;)+)", re.M)
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
MARKDOWN_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*(<[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
                            r"(?:\s+\"[^\"\n]*\")?\s*\)")


def _plain_url(target: str) -> str:
    """A URL as a browser reads it: entities, backslashes, angle brackets, whitespace and control
    characters taken out, lower-cased."""
    return "".join(ch for ch in html.unescape(html.unescape(target)) if ch > " " and ch not in "\\<>\x7f").lower()


def _safe_target(target: str) -> bool:
    """Whether a markdown link target is an allowed URL (``_plain_url``)."""
    scheme = SCHEME.match(_plain_url(target))
    return scheme is None or scheme.group(1) in SCHEMES


def _remote(target: str) -> bool:
    """Whether a URL leaves the page's own site: any scheme, or a scheme-relative ``//host``."""
    plain = _plain_url(target)
    return SCHEME.match(plain) is not None or plain.startswith("//")


def _local_images(element: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: an image's source only when it is a relative path."""
    if element == "img" and attribute == "src" and _remote(value):
        return None
    return value


def _markdown_images(text: str) -> str:
    """``![alt](https://elsewhere/...)`` becomes ``[image not shown: alt]``; relative images stay."""
    return MARKDOWN_IMAGE.sub(lambda m: f"[image not shown: {m.group(1)}]" if _remote(m.group(2)) else m.group(0), text)


def _targets(text: str) -> str:
    def inline(match: re.Match) -> str:
        return match.group(1) + (match.group(2) if _safe_target(match.group(2)) else "#")

    def reference(match: re.Match) -> str:
        return match.group(1) + (match.group(2) if _safe_target(match.group(2)) else "#")

    return REFERENCE_TARGET.sub(reference, INLINE_TARGET.sub(inline, text))


def sanitise_markdown(text: str) -> str:
    """``text`` (markdown with any HTML in it) with nothing left that a browser would run."""
    cleaned = nh3.clean(text, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel="noopener noreferrer",
                        strip_comments=True, attribute_filter=_local_images)
    cleaned = QUOTE.sub(lambda m: m.group(1).replace("&gt;", ">"), cleaned)
    return _targets(_markdown_images(cleaned))


TAG = re.compile(r"[A-Za-z0-9_.-]{1,60}")
MARKUP_CHARS = re.compile(r"[<>&\"'`\x00-\x1f\x7f]")


def one_line(text: str, limit: int) -> str:
    """``text`` as one line for a terminal or a table: control and bidi characters (Unicode category
    C) become spaces, runs of spaces one, and at most ``limit`` characters ("…" marks a cut)."""
    text = " ".join("".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text).split())
    return text[: limit - 1] + "…" if len(text) > limit else text


def plain_name(text: str) -> str:
    """A name for formgrader (which puts names into HTML): no markup or control characters."""
    return " ".join(MARKUP_CHARS.sub(" ", text).split())[:120]


def sanitise_notebook(notebook) -> None:
    """Sanitise every markdown and raw cell of ``notebook`` in place; drop outputs and attachments;
    keep only cell tags made of letters, digits, ``_``, ``.`` and ``-``."""
    for cell in notebook.cells:
        tags = cell.get("metadata", {}).get("tags")
        if tags is not None:
            cell.metadata["tags"] = [t for t in tags if isinstance(t, str) and TAG.fullmatch(t)]
        if cell.cell_type in ("markdown", "raw"):
            cell.source = sanitise_markdown(cell.source)
            cell.pop("attachments", None)
        elif cell.cell_type == "code":
            cell.outputs = []
