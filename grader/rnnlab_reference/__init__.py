"""Instructor-only references for the graded TODOs of the rnnlab notebooks.

Never exported to the student repository and never installed by students: ``scripts/export.py``
leaves ``grader/`` out, and ``tests/test_export.py`` checks that no exported callable computes a
graded TODO's answer. They never reach a grading sandbox: the notebooks' tests compare a
student's values with the solution's own run (``rnnlab_grader.verdicts``), and
``tests/test_solutions_match_references.py`` checks that the solutions agree with these
references, which ``tests/test_probes.py`` and ``tests/test_training.py`` check against
finite differences and closed forms.

* ``rnnlab_reference.probes``    - per-step gradient norms and state norms (nb02 TODO 1-2, nb03 TODO 7-8)
* ``rnnlab_reference.training``  - classifier evaluation, language-model loss and perplexity,
  recurrent-gradient norm (nb03 TODO 6, nb04 TODO 3)
* ``rnnlab_reference.bptt``      - float64 autograd oracles of the NumPy RNN and GRU (nb01 TODO 1-3)
"""
