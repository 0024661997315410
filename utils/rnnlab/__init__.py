"""rnnlab: shared helpers for a notebook series that measures vanishing and exploding gradients.

Modules, one concept each:

* ``rnnlab.config``    - run profiles (``RNNLAB_PROFILE``: full / fast / grade)
* ``rnnlab.runtime``   - seeding, device, output folder, the setup-cell banner (``start``)
* ``rnnlab.sources``   - where text comes from (``RNNLAB_DATA``): hub, synthetic, a folder
* ``rnnlab.synthetic`` - offline data sets designed to show the effect
* ``rnnlab.text``      - tokenizer, vocabulary, truncation, padding
* ``rnnlab.loaders``   - review batches and truncated-BPTT language-model windows
* ``rnnlab.models``    - classifier and language model on fused rnn/lstm/gru modules
* ``rnnlab.probes``    - gate blocks, spectral statistics, decay fits, the recurrent gradient by lag
* ``rnnlab.training``  - training loops with progress bars, clipping, gradient logs
* ``rnnlab.plots``     - the figures the notebooks share
"""
from .config import PROFILES, Profile, get_profile
from .runtime import get_device, output_dir, record_key_result, set_seed, start

__version__ = "0.1.0"

__all__ = ["PROFILES", "Profile", "get_profile", "get_device", "output_dir", "record_key_result",
           "set_seed", "start", "__version__"]
