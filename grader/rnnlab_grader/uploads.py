"""Feedback pages packed the way each LMS takes them back, one zip per LMS and notebook, so a
student reads their page next to their grade (``write_uploads``):

* **Canvas** (the assignment's "Re-Upload Submissions"): Canvas splits a file's name at ``_``
  and takes the first two all-digit parts as the user id and the id of a file that user handed
  in (``Assignment#infer_comment_context_from_filename``); the file becomes a comment on that
  submission. Each page is named ``<login>[_LATE]_<user id>_<file id>_feedback-<notebook>.html``,
  the name Canvas gave the student's own file with its end replaced.
* **Moodle** (the assignment's "Upload multiple feedback files in a zip"): Moodle reads the first
  path part ``<Full name>_<participant>_<plugin type>_<plugin>`` and gives every file under it,
  named unlike the submitted files, to that participant as a feedback file
  (``assignfeedback_file_zip_importer::is_valid_filename_for_import``). Each page is
  ``<the student's download folder>/feedback-<notebook>.html`` (or, for a download without
  folders, the file's prefix followed by ``feedback-<notebook>.html``).

Only files whose LMS name identified their submitter (``identity``) get an entry, with that
student's page (``feedback``): a page never goes to someone the LMS did not name.
"""
from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .credits import Credits
from .identity import CANVAS_FILE, MOODLE_PART

FIXED_TIME = (2020, 1, 1, 0, 0, 0)  # zip entries carry no clock: the same pages give the same bytes


@dataclass
class Bundle:
    """One zip for one LMS and notebook: its path and its entries (name in the zip -> page)."""

    path: Path
    lms: str
    assignment: str
    entries: dict[str, Path] = field(default_factory=dict)


def canvas_name(relative: str, assignment: str) -> str | None:
    """The name under which Canvas takes a page back for the file it named ``relative`` (top level only)."""
    parts = Path(relative).parts
    match = CANVAS_FILE.fullmatch(parts[0]) if len(parts) == 1 else None
    return f"{parts[0][:match.end('submission')]}_feedback-{assignment}.html" if match else None


def moodle_name(relative: str, assignment: str) -> str | None:
    """The name under which Moodle takes a page back for a file of its download ``relative``."""
    parts = Path(relative).parts
    folders = [part for part in parts[:-1] if MOODLE_PART.fullmatch(part)]
    if folders:
        return f"{folders[-1]}/feedback-{assignment}.html"
    match = MOODLE_PART.fullmatch(parts[0]) if len(parts) == 1 else None
    if match is None:
        return None
    prefix = f"{match['name']}_{match['participant']}"
    plugin = parts[0][len(prefix) + 1:].split("_")[:2]  # assignsubmission, file | onlinetext
    return f"{prefix}_{'_'.join(plugin)}_feedback-{assignment}.html"


def bundles(folder: Path, pages: Path, credits: Credits) -> list[Bundle]:
    """The zips to write under ``folder`` for the pages under ``pages`` (``<student id>/<notebook>.html``):
    per notebook, an entry per LMS-named file of a student who has a page, one per student
    (the counted file's name when it is theirs)."""
    found: dict[tuple[str, str], Bundle] = {}
    counted = {key: c.result.path for key, c in credits.by_student.items() if c.result is not None}
    ordered = sorted(credits.authorships, key=lambda item: item[0].path != counted.get(
        (item[1].submitter, item[0].assignment)))  # a student's counted file first
    for result, claim in ordered:
        page = pages / str(claim.submitter) / f"{result.assignment}.html"
        if claim.submitter is None or not page.is_file():
            continue
        for lms, name in (("canvas", canvas_name(result.path, result.assignment)),
                          ("moodle", moodle_name(result.path, result.assignment))):
            if name is None:
                continue
            bundle = found.setdefault((lms, result.assignment), Bundle(
                folder / f"{lms}-{result.assignment}.zip", lms, result.assignment))
            if page not in bundle.entries.values():
                bundle.entries.setdefault(name, page)
    return [found[key] for key in sorted(found)]


def write_uploads(folder: Path, pages: Path, credits: Credits) -> list[Bundle]:
    """Write each bundle (``bundles``) atomically; a notebook without LMS-named files gets none."""
    done = bundles(folder, pages, credits)
    if done:
        folder.mkdir(parents=True, exist_ok=True)
    for bundle in done:
        handle, temporary = tempfile.mkstemp(dir=folder, suffix=".zip.tmp")
        os.close(handle)
        with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, page in sorted(bundle.entries.items()):
                entry = zipfile.ZipInfo(name, FIXED_TIME)
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, page.read_bytes())
        os.replace(temporary, bundle.path)
    return done
