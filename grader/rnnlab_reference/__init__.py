"""Instructor-only references for the graded TODOs of the rnnlab notebooks.

Never exported to the student repository and never installed by students: ``scripts/export.py``
leaves ``grader/`` out, and ``tests/test_export.py`` checks that no exported callable computes a
graded TODO's answer. The hidden tests import these modules; in the grading sandbox the runner
hands them to test cells only (``rnnlab_grader.runner``), so an answer cell cannot import them.

* ``rnnlab_reference.probes``    - per-step gradient norms and state norms (nb02 TODO 1-2, nb03 TODO 7-8)
* ``rnnlab_reference.training``  - classifier evaluation, language-model loss and perplexity,
  recurrent-gradient norm (nb03 TODO 6, nb04 TODO 3)
* ``rnnlab_reference.bptt``      - float64 autograd oracles of the NumPy RNN and GRU (nb01 TODO 1-3)
* ``rnnlab_reference.precision`` - run a student's torch function in float64 where it can, else float32
"""
