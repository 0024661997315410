"""rnnlab: shared helpers for a notebook series that measures vanishing and exploding gradients.

Modules, one concept each:

* ``rnnlab.config``    - run profiles (``RNNLAB_PROFILE``: full / fast / grade)
* ``rnnlab.runtime``   - seeding, device, output folder, the setup-cell banner (``start``)
* ``rnnlab.threads``   - torch's thread count for the cores actually free
* ``rnnlab.sources``   - where text comes from (``RNNLAB_DATA``): hub, synthetic, a folder
* ``rnnlab.synthetic`` - offline data sets designed to show the effect
* ``rnnlab.text``      - tokenizer, vocabulary, truncation, padding
* ``rnnlab.loaders``   - review batches and truncated-BPTT language-model windows
* ``rnnlab.models``    - classifier and language model on fused rnn/lstm/gru modules
* ``rnnlab.probes``    - gate blocks, spectral statistics, decay fits, the recurrent gradient by lag
* ``rnnlab.training``  - training loops with progress bars, clipping, gradient logs
* ``rnnlab.plots``     - the figures the notebooks share
* ``rnnlab.checks``    - the test cells' helpers (messages, and the values the autograder compares)
* ``rnnlab.claims``    - the prose's claims about a run, checked and printed by that run
"""
from .config import PROFILES, Profile, get_profile

__version__ = "0.1.0"
_RUNTIME = ("get_device", "output_dir", "record_key_result", "set_seed", "start")


def __getattr__(name: str):
    """``rnnlab.start`` and the other runtime helpers, imported on first use: ``import rnnlab.checks``
    (the autograder's source checks) then needs no torch."""
    if name in _RUNTIME:
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")

__all__ = ["PROFILES", "Profile", "get_profile", "get_device", "output_dir", "record_key_result",
           "set_seed", "start", "__version__"]
