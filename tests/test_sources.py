import socket
import time

import pytest

from rnnlab import sources
from rnnlab.config import get_profile
from rnnlab.sources import DataSource, load_imdb, load_wikitext, resolve_data_source, split_reviews


def make_aclimdb(root, per_folder=3):
    """A miniature aclImdb tree: {train,test}/{pos,neg}/<id>_<rating>.txt."""
    for split in ("train", "test"):
        for polarity in ("pos", "neg"):
            folder = root / "aclImdb" / split / polarity
            folder.mkdir(parents=True)
            for i in range(per_folder):
                (folder / f"{i}_7.txt").write_text(f"{polarity} review {split} {i}<br />the end")
    return root


WIKI_LINES = {"train": " = Title = \n\n the cat sat . \n", "valid": " a dog ran . \n", "test": " it rained . \n"}


def make_wikitext(folder, pattern):
    folder.mkdir(parents=True, exist_ok=True)
    for split, text in WIKI_LINES.items():
        (folder / pattern.format(split=split)).write_text(text)
    return folder


@pytest.mark.parametrize("nested", [False, True])
def test_imdb_directory_layout_loads(tmp_path, nested):
    root = make_aclimdb(tmp_path / "data")
    folder = root / "aclImdb" if nested else root
    reviews = load_imdb(12, DataSource("directory", folder), seed=1)
    assert len(reviews) == 12 and sorted(reviews.labels) == [0] * 6 + [1] * 6
    assert all(("pos" in t) == (label == 1) for t, label in zip(reviews.texts, reviews.labels))
    assert load_imdb(12, DataSource("directory", folder), seed=1) == reviews  # seeded


def test_imdb_directory_too_few_reviews(tmp_path):
    with pytest.raises(ValueError, match="asked for 13 reviews but the source has 12"):
        load_imdb(13, DataSource("directory", make_aclimdb(tmp_path)))


def test_imdb_malformed_directory_says_what_to_do(tmp_path):
    (tmp_path / "aclImdb" / "train" / "pos").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r"aclImdb/\{train,test\}/\{pos,neg\}"):
        load_imdb(2, DataSource("directory", tmp_path))


def test_imdb_empty_folders(tmp_path):
    for split in ("train", "test"):
        for polarity in ("pos", "neg"):
            (tmp_path / "aclImdb" / split / polarity).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no .txt reviews"):
        load_imdb(2, DataSource("directory", tmp_path))


@pytest.mark.parametrize("pattern", ["wiki.{split}.tokens", "wiki.{split}.raw", "{split}.txt"])
@pytest.mark.parametrize("nested", [False, True])
def test_wikitext_directory_layouts_load(tmp_path, pattern, nested):
    make_wikitext(tmp_path / "wikitext-2" if nested else tmp_path, pattern)
    lines = load_wikitext(DataSource("directory", tmp_path))
    assert lines["train"] == [" = Title = ", "", " the cat sat . "]
    assert lines["valid"] == [" a dog ran . "] and lines["test"] == [" it rained . "]


def test_wikitext_missing_split_says_what_to_do(tmp_path):
    (tmp_path / "wiki.train.tokens").write_text("x\n")
    with pytest.raises(FileNotFoundError, match=r"wiki\.\{train,valid,test\}\.tokens"):
        load_wikitext(DataSource("directory", tmp_path))


def test_wikitext_empty_training_split(tmp_path):
    for split in ("train", "valid", "test"):
        (tmp_path / f"{split}.txt").write_text("\n\n")
    with pytest.raises(ValueError, match="training split is empty"):
        load_wikitext(DataSource("directory", tmp_path))


def test_synthetic_sources_are_seeded():
    assert load_imdb(20, DataSource("synthetic"), seed=3) == load_imdb(20, DataSource("synthetic"), seed=3)
    assert load_imdb(20, DataSource("synthetic"), seed=3) != load_imdb(20, DataSource("synthetic"), seed=4)
    corpus = load_wikitext(DataSource("synthetic"), synthetic_lines=(5, 2, 2))
    assert [len(corpus[s]) for s in ("train", "valid", "test")] == [5, 2, 2]
    assert corpus["train"] != corpus["valid"]


def test_split_reviews_fractions():
    train, val, test = split_reviews(load_imdb(100, DataSource("synthetic")))
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert set(train.texts).isdisjoint(test.texts)
    with pytest.raises(ValueError, match="too few"):
        split_reviews(load_imdb(3, DataSource("synthetic")))


@pytest.mark.parametrize("n", [0, -1, 2.0])
def test_load_imdb_rejects_bad_counts(n):
    with pytest.raises(ValueError, match="positive int"):
        load_imdb(n, DataSource("synthetic"))


def test_resolve_named_sources(monkeypatch, tmp_path):
    profile = get_profile("grade")
    assert resolve_data_source(profile, "synthetic").kind == "synthetic"
    resolved = resolve_data_source(profile, str(tmp_path))
    assert resolved.kind == "directory" and resolved.path == tmp_path.resolve()
    monkeypatch.delenv("RNNLAB_DATA")
    assert resolve_data_source(profile).kind == "synthetic"  # grade's default


def test_resolve_missing_directory_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Set RNNLAB_DATA to 'auto', 'hub', 'synthetic'"):
        resolve_data_source(get_profile("grade"), str(tmp_path / "nowhere"))


def test_resolve_empty_value():
    with pytest.raises(ValueError, match="is empty"):
        resolve_data_source(get_profile("grade"), "  ")


def serve_silently(monkeypatch):
    """A local server that accepts connections and never answers (a hub that hangs);
    HF_ENDPOINT points at it and the offline flags are lifted."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    return server


HANG_S = 30  # the probes' deadlines are 1-5 s; a silent hub never answers, so a hang would exceed this


@pytest.fixture
def silent_hub(monkeypatch):
    """A hanging hub and a 1 s probe timeout."""
    server = serve_silently(monkeypatch)
    monkeypatch.setattr(sources, "HUB_TIMEOUT_S", 1.0)
    yield server
    server.close()


def test_hub_without_network_is_a_clear_error(silent_hub):
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not answer within 1 s.*RNNLAB_DATA=synthetic"):
        resolve_data_source(get_profile("grade"), "hub")
    assert time.monotonic() - started < HANG_S  # the silent hub would never answer: this is not a hang


def test_auto_falls_back_to_synthetic_without_hanging(silent_hub):
    started = time.monotonic()
    source = resolve_data_source(get_profile("full"), "auto")
    assert time.monotonic() - started < HANG_S
    assert source.kind == "synthetic" and "unreachable" in source.describe()


def test_auto_decides_within_five_seconds_by_default(monkeypatch):
    server = serve_silently(monkeypatch)
    started = time.monotonic()
    try:
        assert resolve_data_source(get_profile("full"), "auto").kind == "synthetic"
    finally:
        server.close()
    assert sources.HUB_TIMEOUT_S - 0.5 <= time.monotonic() - started < HANG_S  # waited its deadline, no longer


def test_refused_connection_is_unreachable(monkeypatch):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.delenv("HF_DATASETS_OFFLINE")
    assert sources.hub_reachable(timeout_s=2.0) is False


def test_offline_flag_skips_the_network(monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # never contacted
    started = time.monotonic()
    assert sources.hub_reachable() is False
    assert time.monotonic() - started < sources.HUB_TIMEOUT_S  # decided without waiting on the network


def test_dataset_names_for_titles():
    from pathlib import Path

    from rnnlab.sources import DataSource

    assert DataSource("synthetic").dataset_name("imdb") == "synthetic"
    assert DataSource("directory", path=Path("data")).dataset_name("imdb") == "IMDB"
    assert DataSource("hub").dataset_name("wikitext") == "WikiText-2"
    with pytest.raises(ValueError, match="dataset must be one of"):
        DataSource("hub").dataset_name("ptb")
