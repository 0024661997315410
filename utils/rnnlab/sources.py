"""Where text comes from: the one place that knows the data sources.

``RNNLAB_DATA`` selects the source (default: the profile's, ``auto`` or ``synthetic``):

* ``auto``      - the Hugging Face hub if it answers within ``HUB_TIMEOUT_S`` seconds,
  else the synthetic sets (the banner says which). Never hangs on a dead network.
* ``hub``       - ``datasets.load_dataset`` (IMDB: ``stanfordnlp/imdb``; WikiText-2:
  ``Salesforce/wikitext``, config ``wikitext-2-raw-v1``), cached by ``datasets``.
* ``synthetic`` - ``rnnlab.synthetic``, offline and seeded.
* a directory   - local copies: ``aclImdb/{train,test}/{pos,neg}/*.txt`` and WikiText-2 as
  ``wiki.{train,valid,test}.tokens`` (or ``.raw``, or ``{train,valid,test}.txt``), either
  directly in the directory or in a sub-folder of it.
"""
from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Profile, get_profile
from .synthetic import Reviews, agreement_corpus, synthetic_reviews

DATA_ENV = "RNNLAB_DATA"
HUB_TIMEOUT_S = 5.0
IMDB_HUB_NAME = "stanfordnlp/imdb"
WIKITEXT_HUB_NAME, WIKITEXT_HUB_CONFIG = "Salesforce/wikitext", "wikitext-2-raw-v1"
WIKITEXT_SPLITS = ("train", "valid", "test")
_WIKITEXT_FILE_PATTERNS = ("wiki.{split}.tokens", "wiki.{split}.raw", "{split}.txt")
_HOW_TO_CHOOSE = ("Set RNNLAB_DATA to 'auto', 'hub', 'synthetic', or the path of a folder with "
                  "local copies (see data/README.md).")


@dataclass(frozen=True)
class DataSource:
    """A resolved data source: ``kind`` is ``"hub"``, ``"synthetic"``, ``"directory"``, or
    ``"none"`` for a notebook that generates its own inputs.

    path: the folder for ``"directory"``; reason: why ``auto`` chose what it chose.
    """

    kind: str
    path: Path | None = None
    reason: str = ""

    def dataset_name(self, dataset: str) -> str:
        """What a figure title should call the text: "IMDB" / "WikiText-2" for the real data set (hub
        or a local copy), "synthetic" for the course's generated stand-in. dataset: "imdb" or "wikitext"."""
        if self.kind == "synthetic":
            return "synthetic"
        names = {"imdb": "IMDB", "wikitext": "WikiText-2"}
        if dataset not in names:
            raise ValueError(f"dataset must be one of {sorted(names)}, got {dataset!r}")
        return names[dataset]

    def describe(self) -> str:
        """Short text for the banner."""
        where = f"{self.kind}:{self.path}" if self.path else self.kind
        return f"{where} ({self.reason})" if self.reason else where


def hub_endpoint() -> str:
    """The Hugging Face endpoint ``datasets`` will use (``HF_ENDPOINT`` or huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout_s: float | None = None) -> bool:
    """True if the hub answers an HTTP request within ``timeout_s`` seconds (default ``HUB_TIMEOUT_S``).

    Any HTTP answer counts, even an error status. The request runs in a daemon thread
    that is abandoned at the deadline, so a DNS lookup that hangs cannot block us.
    ``HF_HUB_OFFLINE=1`` or ``HF_DATASETS_OFFLINE=1`` means unreachable at once.
    """
    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return False
    timeout_s = HUB_TIMEOUT_S if timeout_s is None else timeout_s
    answered = threading.Event()

    def ask() -> None:
        try:
            urllib.request.urlopen(f"{hub_endpoint()}/api/datasets/{IMDB_HUB_NAME}", timeout=timeout_s)
            answered.set()
        except urllib.error.HTTPError:
            answered.set()
        except Exception:  # noqa: BLE001 - any other failure means "not reachable"
            pass

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    thread.join(timeout_s)
    return answered.is_set()


def resolve_data_source(profile: Profile | None = None, value: str | None = None) -> DataSource:
    """Turn ``value`` (default: ``RNNLAB_DATA``, else the profile's default) into a ``DataSource``.

    Raises RuntimeError for ``hub`` when the hub does not answer, FileNotFoundError for a
    path that is not a directory, ValueError for an empty value.
    """
    profile = profile or get_profile()
    raw = value if value is not None else os.environ.get(DATA_ENV, profile.default_data)
    choice = raw.strip()
    if not choice:
        raise ValueError(f"{DATA_ENV} is empty. {_HOW_TO_CHOOSE}")
    if choice == "synthetic":
        return DataSource("synthetic")
    if choice == "hub":
        if not hub_reachable():
            raise RuntimeError(
                f"{DATA_ENV}=hub but the Hugging Face hub ({hub_endpoint()}) did not answer within "
                f"{HUB_TIMEOUT_S:.0f} s. Connect to the internet, or set {DATA_ENV}=synthetic "
                "(offline) or to a folder with local copies."
            )
        return DataSource("hub")
    if choice == "auto":
        if hub_reachable():
            return DataSource("hub", reason="auto: hub reachable")
        return DataSource("synthetic", reason=f"auto: hub unreachable within {HUB_TIMEOUT_S:.0f} s, "
                                              "using synthetic data")
    path = Path(choice).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"{DATA_ENV}={raw!r} is not a folder. {_HOW_TO_CHOOSE}")
    return DataSource("directory", path=path.resolve())


def _find_dir(root: Path, name: str, must_have: tuple[str, ...]) -> Path:
    """``root`` or ``root/name`` (or any ``root/*/name``) holding all of ``must_have``."""
    for candidate in (root, root / name, *sorted(root.glob(f"*/{name}"))):
        if all((candidate / part).is_dir() for part in must_have):
            return candidate
    raise FileNotFoundError(
        f"No IMDB data in {root}: expected {name}/{{train,test}}/{{pos,neg}}/*.txt as distributed by "
        "Stanford (https://ai.stanford.edu/~amaas/data/sentiment/). Unpack aclImdb_v1.tar.gz there, "
        "or set RNNLAB_DATA=synthetic."
    )


def _imdb_from_directory(root: Path) -> Reviews:
    base = _find_dir(root, "aclImdb", ("train/pos", "train/neg", "test/pos", "test/neg"))
    texts, labels = [], []
    for split in ("train", "test"):
        for polarity, label in (("neg", 0), ("pos", 1)):
            files = sorted((base / split / polarity).glob("*.txt"))
            texts += [f.read_text(encoding="utf-8", errors="replace") for f in files]
            labels += [label] * len(files)
    if not texts:
        raise FileNotFoundError(f"{base} has the aclImdb folders but no .txt reviews in them.")
    return Reviews(texts, labels)


def _imdb_from_hub() -> Reviews:
    from datasets import load_dataset

    dataset = load_dataset(IMDB_HUB_NAME)
    texts, labels = [], []
    for split in ("train", "test"):  # "unsupervised" has no labels
        texts += list(dataset[split]["text"])
        labels += [int(x) for x in dataset[split]["label"]]
    return Reviews(texts, labels)


def load_imdb(n_reviews: int, source: DataSource | None = None, seed: int = 0,
              synthetic_length: tuple[int, int] = (30, 450), synthetic_cue_within: int | None = None,
              synthetic_markup: bool = False) -> Reviews:
    """``n_reviews`` labelled movie reviews, shuffled with ``seed``.

    Real IMDB pools its train and test halves (50,000 reviews) before sampling, as the
    original exercise does. The synthetic stand-in has cue words anywhere in reviews of
    ``synthetic_length`` tokens, or among their first ``synthetic_cue_within`` words
    (``synthetic_reviews``' ``cue_within``), written with HTML and punctuation when
    ``synthetic_markup``. Raises ValueError if fewer reviews are available.
    """
    if not isinstance(n_reviews, int) or n_reviews <= 0:
        raise ValueError(f"n_reviews must be a positive int, got {n_reviews!r}")
    source = source or resolve_data_source()
    if source.kind == "synthetic":
        return synthetic_reviews(n_reviews, length=synthetic_length, cue_at="anywhere", seed=seed,
                                 cue_within=synthetic_cue_within, markup=synthetic_markup)
    pool = _imdb_from_hub() if source.kind == "hub" else _imdb_from_directory(source.path)
    if n_reviews > len(pool):
        raise ValueError(f"asked for {n_reviews} reviews but the source has {len(pool)}")
    order = np.random.default_rng(seed).permutation(len(pool))[:n_reviews]
    return pool.subset(order.tolist())


def split_reviews(reviews: Reviews, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
                  ) -> tuple[Reviews, Reviews, Reviews]:
    """Split into train/validation/test by position (shuffle first; ``load_imdb`` does)."""
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    n = len(reviews)
    n_train, n_val = int(fractions[0] * n), int(fractions[1] * n)
    cuts = [range(0, n_train), range(n_train, n_train + n_val), range(n_train + n_val, n)]
    parts = tuple(reviews.subset(list(c)) for c in cuts)
    if any(len(p) == 0 for p in parts):
        raise ValueError(f"{n} reviews are too few to split as {fractions}: every part would need one")
    return parts  # type: ignore[return-value]


def _wikitext_from_directory(root: Path) -> dict[str, list[str]]:
    for base in (root, *sorted(p for p in root.iterdir() if p.is_dir())):
        for pattern in _WIKITEXT_FILE_PATTERNS:
            files = {s: base / pattern.format(split=s) for s in WIKITEXT_SPLITS}
            if all(f.is_file() for f in files.values()):
                return {s: f.read_text(encoding="utf-8").splitlines() for s, f in files.items()}
    raise FileNotFoundError(
        f"No WikiText-2 files in {root}: expected wiki.{{train,valid,test}}.tokens (or .raw, or "
        "train.txt/valid.txt/test.txt) in it or in a sub-folder. Or set RNNLAB_DATA=synthetic."
    )


def _wikitext_from_hub() -> dict[str, list[str]]:
    from datasets import load_dataset

    dataset = load_dataset(WIKITEXT_HUB_NAME, WIKITEXT_HUB_CONFIG)
    return {"train": list(dataset["train"]["text"]), "valid": list(dataset["validation"]["text"]),
            "test": list(dataset["test"]["text"])}


def load_wikitext(source: DataSource | None = None, seed: int = 0,
                  synthetic_lines: tuple[int, int, int] = (2000, 500, 500)) -> dict[str, list[str]]:
    """WikiText-2 lines per split: ``{"train": [...], "valid": [...], "test": [...]}``.

    Lines are pre-tokenised text (split on whitespace); blank lines are kept as in the
    source. The synthetic stand-in is ``agreement_corpus`` with ``synthetic_lines``
    lines per split, each split from its own seed.
    """
    source = source or resolve_data_source()
    if source.kind == "synthetic":
        return {split: agreement_corpus(n, seed=seed * 3 + i)
                for i, (split, n) in enumerate(zip(WIKITEXT_SPLITS, synthetic_lines))}
    lines = _wikitext_from_hub() if source.kind == "hub" else _wikitext_from_directory(source.path)
    if not any(line.strip() for line in lines["train"]):
        raise ValueError("the WikiText-2 training split is empty: check the data files")
    return lines
