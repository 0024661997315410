"""Seeding, device choice, output folder and the one-line banner of a notebook's setup cell."""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .claims import checked_claims, forget_claims
from .config import Profile, get_profile
from .threads import ThreadPlan, fit_threads

OUTPUT_ENV = "RNNLAB_OUTPUT"
KEY_RESULT_FILE = "key_result.json"


def set_seed(seed: int) -> None:
    """Seed Python's ``random``, NumPy and PyTorch (CPU and every CUDA device).

    On CPU this makes a training run repeat bit for bit in the same process
    and across processes with the same thread count.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU ``torch.Generator`` seeded with ``seed`` (for DataLoader shuffling)."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: ``prefer`` if given, else CUDA when present, else CPU."""
    if prefer is not None:
        device = torch.device(prefer)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(
                "A CUDA device was requested but PyTorch sees none. In Colab choose "
                "Runtime > Change runtime type > GPU, or pass prefer='cpu'."
            )
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def output_dir(name: str | None = None) -> Path:
    """The folder a notebook writes its figures and artifacts to (created if missing).

    ``RNNLAB_OUTPUT`` if set (``make course`` points it into ``build/``),
    else ``./outputs``; ``name`` adds a sub-folder.
    """
    root = Path(os.environ.get(OUTPUT_ENV) or "outputs")
    path = root / name if name else root
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_key_result(summary: str, **values: float) -> Path:
    """Write the notebook's headline result (one line, plus named numbers) to the output folder,
    with every claim the run checked (``rnnlab.claims.check_claim``) under ``"claims"``.

    ``make course`` prints it in its table. Returns the path written.
    """
    path = output_dir() / KEY_RESULT_FILE
    path.write_text(json.dumps({"summary": summary, "values": values, "claims": checked_claims()}, indent=2))
    return path


@dataclass(frozen=True)
class Session:
    """What a notebook's setup cell decided: profile, data source and device."""

    profile: Profile
    data: DataSource  # noqa: F821  (rnnlab.sources.DataSource)
    device: torch.device
    threads: ThreadPlan | None = None

    @property
    def banner(self) -> str:
        """One line: profile, data source, device, and what the device means for time."""
        if self.device.type == "cuda":
            speed = "GPU"
        else:
            speed = ("CPU only: the 'full' profile needs a GPU (notebook 03 alone is about 14 h of training on "
                     "2 CPU cores); on a CPU set RNNLAB_PROFILE=fast" if self.profile.name == "full" else "CPU")
        threads = f" | {self.threads.describe()}" if self.threads is not None and self.device.type == "cpu" else ""
        return (
            f"rnnlab | profile={self.profile.name} ({self.profile.description}) | "
            f"data={self.data.describe()} | device={self.device} ({speed}){threads}"
        )


def start(seed: int | None = None, needs_data: bool = True) -> Session:
    """Set up a notebook: read the profile, seed everything, choose device and data source, and on
    a CPU give torch the cores that are free (``rnnlab.threads``).

    Prints the one-line banner and returns the ``Session``. ``seed`` defaults to the
    profile's seed. A notebook that generates its own inputs passes ``needs_data=False``
    (no data source is resolved, so ``RNNLAB_DATA=auto`` does not probe the network).
    """
    from .sources import DataSource, resolve_data_source

    profile = get_profile()
    forget_claims()
    set_seed(profile.seed if seed is None else seed)
    data = resolve_data_source(profile) if needs_data else DataSource("none", reason="generated in the notebook")
    device = get_device()
    threads = fit_threads() if device.type == "cpu" else None
    session = Session(profile=profile, data=data, device=device, threads=threads)
    print(session.banner)
    return session
