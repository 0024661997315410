"""Synthetic data sets that *show the effect*, generated offline from a seed.

* ``synthetic_reviews``: "reviews" of neutral filler words whose sentiment is carried
  only by a few cue words placed at a controlled position. A cue far from the end of
  the review is a long-range dependency: the classifier reads the final state, so the
  cue has to survive (and its gradient has to flow back over) every later step.
* ``agreement_corpus``: sentences for language modelling in which the subject's number
  (singular/plural) decides the verb form many filler tokens later.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIVE_CUES = ("excellent", "wonderful", "superb", "brilliant", "delightful", "masterful")
NEGATIVE_CUES = ("awful", "terrible", "dreadful", "boring", "painful", "pointless")
FILLER = (
    "the", "a", "film", "movie", "story", "scene", "actor", "plot", "camera", "music",
    "director", "character", "and", "of", "to", "in", "was", "is", "it", "this", "that",
    "with", "for", "on", "as", "at", "by", "one", "some", "then", "there", "after",
    "before", "while", "when", "where", "street", "house", "night", "morning", "city",
    "river", "train", "letter", "door", "window", "table", "friend", "brother", "sister",
    "mother", "father", "dog", "car", "road", "town", "picture", "sound", "light", "rain",
    "time", "year", "hour", "minute", "second", "part", "end", "start", "middle", "side",
)

SINGULAR_SUBJECTS = ("dog", "cat", "teacher", "child", "pilot", "farmer", "singer", "doctor")
PLURAL_SUBJECTS = ("dogs", "cats", "teachers", "children", "pilots", "farmers", "singers", "doctors")
SINGULAR_VERBS = ("runs", "sleeps", "waits", "laughs", "works", "sings")
PLURAL_VERBS = ("run", "sleep", "wait", "laugh", "work", "sing")
AGREEMENT_FILLER = (
    "quietly", "often", "very", "old", "small", "happy", "tired", "really", "still",
    "there", "today", "again", "almost", "always", "usually", "gently", "nearby",
    "outside", "perhaps", "soon", "early", "late", "here", "now",
)
AGREEMENT_ENDINGS = ("in the park", "at home", "every day", "near the river", "after lunch")
SINGULAR_PRONOUNS = ("he", "she", "it")
PLURAL_PRONOUNS = ("they", "we", "you")


@dataclass(frozen=True)
class Reviews:
    """Texts with binary labels (1 = positive, 0 = negative), index-aligned."""

    texts: list[str]
    labels: list[int]

    def __post_init__(self):
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, index) -> Reviews:
        """The reviews at the integer positions ``index``."""
        return Reviews([self.texts[i] for i in index], [self.labels[i] for i in index])


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


MARKUP_BREAK, MARKUP_ENDINGS = "<br /><br />", (".", "!", "...", "!!", " (7/10).")


def _with_markup(words: list[str], rng: np.random.Generator) -> str:
    """A review as people type it: a capital first word, a line break in IMDB's HTML, and an ending
    mark. Cleaning (lower case, tags and non-letters to spaces) gives back exactly ``words``."""
    words = list(words)
    words[0] = words[0].capitalize()
    cut = int(rng.integers(1, min(len(words), 10))) if len(words) > 1 else 1  # early: a printed start shows it
    return " ".join(words[:cut]) + MARKUP_BREAK + " ".join(words[cut:]) + str(rng.choice(MARKUP_ENDINGS))


def synthetic_reviews(n: int, length: int | tuple[int, int] = 60, cue_at: float | str = "anywhere",
                      n_cues: int = 2, seed: int = 0, cue_within: int | None = None,
                      markup: bool = False) -> Reviews:
    """``n`` balanced reviews whose label is carried only by ``n_cues`` cue words.

    length: tokens per review, an int or an inclusive range ``(lo, hi)`` drawn uniformly.
    cue_at: where the cue words sit, as a fraction of the review: 0.0 = the first
        tokens, 1.0 = the last tokens; or ``"anywhere"`` (uniform per review).
        The cues are adjacent, so with ``cue_at=0`` the last cue is ``length - n_cues``
        steps before the end.
    n_cues: cue words per review, all of the label's polarity.
    cue_within: with ``cue_at="anywhere"``, keep the cues among the first ``cue_within`` words
        (uniformly placed there; the whole review when it is shorter). A review cut to its first
        ``cue_within`` or more words then always holds its cues, and the cut's length only sets
        how far they are from its end: the stand-in for IMDB in notebook 03's length sweep.
    markup: write each review as people type it (``_with_markup``: capitals, ``<br /><br />``,
        punctuation), from a random stream of its own, so the words, cues and labels are those of
        ``markup=False`` and cleaning them out gives the same text (notebook 03's cleaning has
        something to clean).
    Returns ``Reviews`` with texts of space-separated words and labels in {0, 1}.
    """
    _check_positive("n", n)
    _check_positive("n_cues", n_cues)
    lo, hi = (length, length) if isinstance(length, (int, np.integer)) else length
    if lo < n_cues or hi < lo:
        raise ValueError(f"length must be at least n_cues={n_cues} (and lo <= hi), got {length!r}")
    if not (cue_at == "anywhere" or (isinstance(cue_at, (int, float)) and 0.0 <= cue_at <= 1.0)):
        raise ValueError(f"cue_at must be a fraction in [0, 1] or 'anywhere', got {cue_at!r}")
    if cue_within is not None:
        _check_positive("cue_within", cue_within)
        if cue_within < n_cues or cue_at != "anywhere":
            raise ValueError(f"cue_within needs cue_at='anywhere' and at least n_cues={n_cues} words, "
                             f"got cue_within={cue_within!r}, cue_at={cue_at!r}")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2).tolist()
    texts = []
    for label in labels:
        size = int(rng.integers(lo, hi + 1))
        words = list(rng.choice(FILLER, size=size))
        cues = rng.choice(POSITIVE_CUES if label else NEGATIVE_CUES, size=n_cues)
        span = (size if cue_within is None else min(size, cue_within)) - n_cues
        fraction = rng.random() if cue_at == "anywhere" else float(cue_at)
        start = int(round(fraction * span))
        words[start:start + n_cues] = list(cues)
        texts.append(" ".join(words))
    if markup:
        decorations = np.random.default_rng([seed, 1])  # apart from the draws above
        texts = [_with_markup(text.split(" "), decorations) for text in texts]
    return Reviews(texts, [int(x) for x in labels])


def agreement_sentence(rng: np.random.Generator, gap: tuple[int, int]) -> str:
    """One sentence: subject, ``gap`` neutral filler words, then the agreeing verb."""
    plural = bool(rng.integers(2))
    subject = rng.choice(PLURAL_SUBJECTS if plural else SINGULAR_SUBJECTS)
    filler = rng.choice(AGREEMENT_FILLER, size=int(rng.integers(gap[0], gap[1] + 1)))
    verb = rng.choice(PLURAL_VERBS if plural else SINGULAR_VERBS)
    return " ".join(["the", subject, *filler, verb, rng.choice(AGREEMENT_ENDINGS), "."])


# Gap 0 ("the dogs run") gives a vanilla RNN the short cases it learns the rule from; gaps up to 28 (a window of
# 30 still holds subject and verb) keep it from carrying the rule to gap 20 by the end of `fast` (3 seeds: 0.50-0.53)
AGREEMENT_GAP = (0, 28)


def agreement_corpus(n_lines: int, gap: tuple[int, int] = AGREEMENT_GAP,
                     sentences_per_line: tuple[int, int] = (1, 5), seed: int = 0) -> list[str]:
    """``n_lines`` lines of agreement sentences, WikiText-style (pre-tokenised, one line a paragraph).

    gap: inclusive range of filler words between subject and verb; the verb form
        (``runs``/``run``) is only predictable by remembering the subject across the gap.
    sentences_per_line: inclusive range of sentences per line.
    """
    _check_positive("n_lines", n_lines)
    if gap[0] < 0 or gap[1] < gap[0]:
        raise ValueError(f"gap must be a range (lo, hi) with 0 <= lo <= hi, got {gap!r}")
    rng = np.random.default_rng(seed)
    return [
        " ".join(agreement_sentence(rng, gap)
                 for _ in range(int(rng.integers(sentences_per_line[0], sentences_per_line[1] + 1))))
        for _ in range(n_lines)
    ]


def agreement_vocabulary() -> list[str]:
    """Every token ``agreement_sequence`` can produce, in a fixed order (index = token id)."""
    return [*SINGULAR_PRONOUNS, *PLURAL_PRONOUNS, *AGREEMENT_FILLER, *SINGULAR_VERBS, *PLURAL_VERBS]


def agreement_sequence(length: int, seed: int = 0) -> tuple[list[str], str]:
    """A pronoun, then ``length - 1`` neutral filler words; returns (tokens, target).

    The target is the verb form that agrees with the pronoun at position 0 (``works`` after
    he/she/it, ``work`` after they/we/you): a dependency that spans the whole sequence.
    """
    _check_positive("length", length)
    rng = np.random.default_rng(seed)
    plural = bool(rng.integers(2))
    pronoun = str(rng.choice(PLURAL_PRONOUNS if plural else SINGULAR_PRONOUNS))
    verb_index = int(rng.integers(len(SINGULAR_VERBS)))
    target = (PLURAL_VERBS if plural else SINGULAR_VERBS)[verb_index]
    return [pronoun, *[str(w) for w in rng.choice(AGREEMENT_FILLER, size=length - 1)]], target


@dataclass(frozen=True)
class AgreementProbe:
    """A sentence start whose next word must agree with its subject across ``gap`` filler words.

    tokens: "the", the subject, ``gap`` filler words; correct / wrong: the verb in the right and
    the wrong number (``runs`` / ``run``).
    """

    tokens: tuple[str, ...]
    correct: str
    wrong: str
    gap: int


def agreement_probes(gaps, per_gap: int = 200, seed: int = 0) -> list[AgreementProbe]:
    """``per_gap`` probes for every gap in ``gaps`` (numbers of filler words between subject and
    verb), half singular and half plural subjects, drawn like ``agreement_corpus`` draws them."""
    _check_positive("per_gap", per_gap)
    rng = np.random.default_rng(seed)
    probes = []
    for gap in gaps:
        if int(gap) < 0:
            raise ValueError(f"gaps must be >= 0, got {gap!r}")
        for i in range(per_gap):
            plural = bool(i % 2)
            subject = str(rng.choice(PLURAL_SUBJECTS if plural else SINGULAR_SUBJECTS))
            verb = int(rng.integers(len(SINGULAR_VERBS)))
            filler = [str(w) for w in rng.choice(AGREEMENT_FILLER, size=int(gap))]
            right, other = (PLURAL_VERBS, SINGULAR_VERBS) if plural else (SINGULAR_VERBS, PLURAL_VERBS)
            probes.append(AgreementProbe(("the", subject, *filler), right[verb], other[verb], int(gap)))
    return probes
