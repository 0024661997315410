"""Claims a notebook's prose makes about its own run, checked by the run that makes them.

A sentence such as "the RNN's long-lag gradient is smaller than the LSTM's" holds in one
profile and not in another, on one data set and not on another, on a quiet machine and not on
a busy one. So the notebook does not assert it: it measures it, prints the claim with its
numbers and whether it held ("... : no (0.13 vs 0.27)"), and ``record_key_result`` stores every
claim the run checked next to the headline numbers (``make course`` lists them).

Thresholds shared by the series live here, so that "above chance" means the same everywhere.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

ABOVE_CHANCE = 0.6  # accuracy on a balanced binary task clearly above chance (4 standard errors at 400 examples)
SUCCEEDS = 0.9      # accuracy at which a model has learned the task

_checked: list[Claim] = []


@dataclass(frozen=True)
class Claim:
    """statement: what the prose says; held: whether this run bears it out; values: the numbers, as text."""

    statement: str
    held: bool
    values: str

    def line(self) -> str:
        """The one line the notebook prints: ``check: <statement>: yes|no (<values>)``."""
        return f"check: {self.statement}: {'yes' if self.held else 'no'} ({self.values})"

    def _ipython_display_(self) -> None:
        """Nothing more to show when a cell ends with ``check_claim(...)``: the line is already printed."""


def check_claim(statement: str, held, values: str) -> Claim:
    """Print the claim with whether it held in this run, and keep it for the key result.

    held: anything ``bool()`` accepts (a NumPy or tensor comparison included).
    Raises ValueError for an empty statement or values (a claim without its numbers proves nothing).
    """
    if not str(statement).strip() or not str(values).strip():
        raise ValueError("a claim needs its statement and the values it was checked on")
    claim = Claim(str(statement), bool(held), str(values))
    _checked.append(claim)
    print(claim.line())
    return claim


def checked_claims() -> list[dict]:
    """Every claim checked since the notebook started, as plain dicts (statement, held, values)."""
    return [asdict(claim) for claim in _checked]


def forget_claims() -> None:
    """Start a new list (``rnnlab.start`` calls it, so that a re-run notebook does not repeat its claims)."""
    _checked.clear()


def above_chance(accuracy: float) -> bool:
    """Accuracy on a balanced binary task clearly above chance (``ABOVE_CHANCE``)."""
    return accuracy > ABOVE_CHANCE


def near_chance(accuracy: float) -> bool:
    """Accuracy on a balanced binary task not clearly above chance."""
    return accuracy <= ABOVE_CHANCE
