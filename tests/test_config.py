import pytest

from rnnlab import config


def test_env_selects_profile(monkeypatch):
    monkeypatch.setenv("RNNLAB_PROFILE", "FULL")
    assert config.get_profile().name == "full"


def test_nbgrader_execution_means_grade(monkeypatch):
    monkeypatch.delenv("RNNLAB_PROFILE")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setattr(config, "cuda_available", lambda: True)
    assert config.get_profile().name == "grade"


@pytest.mark.parametrize("cuda,expected", [(True, "full"), (False, "fast")])
def test_default_follows_cuda(monkeypatch, cuda, expected):
    monkeypatch.delenv("RNNLAB_PROFILE")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setattr(config, "cuda_available", lambda: cuda)
    assert config.get_profile().name == expected


def test_unknown_profile_says_what_to_do(monkeypatch):
    monkeypatch.setenv("RNNLAB_PROFILE", "huge")
    with pytest.raises(ValueError, match="set it to one of"):
        config.get_profile()


def test_profiles_shrink_from_full_to_grade():
    full, fast, grade = (config.PROFILES[n] for n in ("full", "fast", "grade"))
    assert full.imdb.lengths == (50, 100, 200, 400) and full.imdb.epochs == 10
    assert full.imdb.batch_size == 64 and full.imdb.lr == 1e-3 and full.imdb.n_reviews == 30_000
    assert full.lm.vocab_size == 15_000 and (full.lm.embed_dim, full.lm.hidden_dim) == (128, 256)
    for section in ("imdb", "lm"):
        big, mid, small = (getattr(p, section) for p in (full, fast, grade))
        assert big.vocab_size >= mid.vocab_size >= small.vocab_size
        assert big.hidden_dim >= mid.hidden_dim >= small.hidden_dim

        def work(scale):  # epochs x examples x the recurrent matrix's size: what a run costs
            return scale.epochs * getattr(scale, "n_reviews", getattr(scale, "train_lines", 1)) * scale.hidden_dim ** 2
        # fast trains its smaller language models for more epochs (the agreement effect needs them),
        # still at half of full's work or less
        assert work(big) >= work(mid) >= work(small)
    assert grade.default_data == "synthetic" and full.default_data == "auto"
