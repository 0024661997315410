"""What an answer or course cell printed and the figures it left open, for the instructor's graded
copy (the display channel): bounded text and PNGs, figures closed after each cell as Jupyter's
inline backend does. Never part of the report, never part of a verdict."""
from __future__ import annotations

import base64
import io
import sys

from rnnlab_runner.protocol import OUTPUT_CHARS, OUTPUT_DPI, OUTPUT_FIGURES, OUTPUT_PNG_BYTES


class PrintedText(io.TextIOBase):
    """``sys.stdout`` during an answer or course cell: keeps the first ``OUTPUT_CHARS`` characters."""

    def __init__(self):
        self.parts, self.size = [], 0

    def writable(self):
        return True

    def write(self, text):
        if type(text) is str and self.size < OUTPUT_CHARS:
            self.parts.append(text[: OUTPUT_CHARS - self.size])
            self.size += len(self.parts[-1])
        return len(text) if type(text) is str else 0


def printed_text(printed: PrintedText, type_of=type, list_type=list, str_type=str) -> str:
    """What was printed into ``printed``, read without running anything a cell may have put there."""
    parts = printed.parts if type_of(printed.parts) is list_type else []
    return "".join(p for p in parts if type_of(p) is str_type)[:OUTPUT_CHARS]


def open_figures(type_of=type, bytes_type=bytes) -> list[str]:
    """PNGs of the figures a cell left open (at most ``OUTPUT_FIGURES``), which are then closed."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return []
    pngs = []
    try:
        for number in list(pyplot.get_fignums())[:OUTPUT_FIGURES]:
            buffer = io.BytesIO()
            pyplot.figure(number).savefig(buffer, format="png", dpi=OUTPUT_DPI)
            data = buffer.getvalue()
            if type_of(data) is bytes_type and len(data) <= OUTPUT_PNG_BYTES:
                pngs.append(base64.b64encode(data).decode("ascii"))
        pyplot.close("all")
    except Exception:  # noqa: BLE001 - a figure that cannot be drawn is left out
        pass
    return pngs
