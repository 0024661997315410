"""The hub path (what Colab students run) without the hub: ``datasets.load_dataset`` is replaced
by stand-in ``DatasetDict``s with the hub's schema, and the result is compared with the folder
path on the same text.

* IMDB (``stanfordnlp/imdb``): splits ``train``, ``test`` and ``unsupervised``; ``label`` is a
  ``ClassLabel(names=["neg", "pos"])`` and the unsupervised rows carry -1.
* WikiText-2 raw (``Salesforce/wikitext``, ``wikitext-2-raw-v1``): splits ``train``,
  ``validation``, ``test``; one ``text`` row per line, with its trailing newline, blank rows,
  `` = Heading = `` rows and ``@-@`` tokens as the raw config has them.
"""
import datasets
import pytest
import torch
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

from rnnlab import loaders, sources, text
from rnnlab.sources import DataSource

REVIEWS = {
    "train": [("A <br /><br />dull, dull film.", 0), ("Wonderful acting; I'd watch it again!", 1),
              ("Not worth the ticket.", 0)],
    "test": [("A masterpiece of suspense.", 1), ("Two hours I will never get back.", 0)],
}
UNSUPERVISED = ["An unlabelled review that must not be used.", "Another one."]

WIKI = {
    "train": ["", " = Valkyria Chronicles III = \n", "", " Senjō no Valkyria 3 : Unrecorded Chronicles is a "
              "tactical role @-@ playing video game . \n", " The game began development in 2010 , carrying "
              "over a large portion of the work done on Valkyria Chronicles II . \n", ""],
    "valid": ["", " = Homarus gammarus = \n", " Homarus gammarus is a species of clawed lobster . \n"],
    "test": ["", " = Robert Boulter = \n", " Robert Boulter is an English film and television actor . \n"],
}


def imdb_stand_in() -> DatasetDict:
    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    splits = {name: Dataset.from_dict({"text": [t for t, _ in rows], "label": [y for _, y in rows]}, features=features)
              for name, rows in REVIEWS.items()}
    splits["unsupervised"] = Dataset.from_dict({"text": UNSUPERVISED, "label": [-1] * len(UNSUPERVISED)},
                                               features=features)
    return DatasetDict(splits)


def wikitext_stand_in() -> DatasetDict:
    features = Features({"text": Value("string")})
    return DatasetDict({{"valid": "validation"}.get(name, name): Dataset.from_dict({"text": lines}, features=features)
                        for name, lines in WIKI.items()})


@pytest.fixture
def fake_hub(monkeypatch):
    calls = []

    def load_dataset(path, name=None, **kwargs):
        calls.append((path, name))
        if path == sources.IMDB_HUB_NAME:
            return imdb_stand_in()
        if (path, name) == (sources.WIKITEXT_HUB_NAME, sources.WIKITEXT_HUB_CONFIG):
            return wikitext_stand_in()
        raise AssertionError(f"unexpected load_dataset({path!r}, {name!r})")

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)
    return calls


def imdb_folder(root):
    for split, rows in REVIEWS.items():
        for i, (review, label) in enumerate(rows):
            folder = root / "aclImdb" / split / ("pos" if label else "neg")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}_{7 if label else 2}.txt").write_text(review, encoding="utf-8")
    return root


def test_imdb_from_the_hub_uses_the_labelled_splits_only(fake_hub):
    reviews = sources._imdb_from_hub()
    assert fake_hub == [(sources.IMDB_HUB_NAME, None)]
    assert sorted(zip(reviews.texts, reviews.labels)) == sorted(r for rows in REVIEWS.values() for r in rows)
    assert set(reviews.labels) == {0, 1} and not set(UNSUPERVISED) & set(reviews.texts)


def test_imdb_hub_and_folder_give_the_same_reviews(fake_hub, tmp_path):
    hub = sources.load_imdb(5, DataSource("hub"), seed=3)
    folder = sources.load_imdb(5, DataSource("directory", path=imdb_folder(tmp_path)), seed=3)
    assert sorted(zip(hub.texts, hub.labels)) == sorted(zip(folder.texts, folder.labels))
    with pytest.raises(ValueError, match="asked for 6 reviews but the source has 5"):
        sources.load_imdb(6, DataSource("hub"))
    tokens = [text.tokenize(t) for t in hub.texts]
    assert ["a", "dull", ",", "dull", "film", "."] in tokens  # the <br /> tags are gone


def test_wikitext_from_the_hub_matches_the_folder(fake_hub, tmp_path):
    for split, lines in WIKI.items():
        (tmp_path / f"wiki.{split}.tokens").write_text("".join(line if line.endswith("\n") else line + "\n"
                                                               for line in lines), encoding="utf-8")
    hub = sources.load_wikitext(DataSource("hub"))
    folder = sources.load_wikitext(DataSource("directory", path=tmp_path))
    assert fake_hub == [(sources.WIKITEXT_HUB_NAME, sources.WIKITEXT_HUB_CONFIG)]
    assert set(hub) == set(folder) == {"train", "valid", "test"}
    for split in hub:
        assert [text.split_whitespace(line) for line in hub[split]] == \
               [text.split_whitespace(line) for line in folder[split]], split
    assert "@-@" in text.split_whitespace(hub["train"][3])  # the raw config's tokens stay as they are
    vocab = text.Vocabulary.build([text.split_whitespace(line) for line in hub["train"]], 100, specials=(loaders.EOS,))
    batches = [loaders.language_model_batches(lines["train"], vocab, batch_size=2, seq_len=5)
               for lines in (hub, folder)]
    for (x_hub, y_hub), (x_folder, y_folder) in zip(*batches):
        assert torch.equal(x_hub, x_folder) and torch.equal(y_hub, y_folder)
