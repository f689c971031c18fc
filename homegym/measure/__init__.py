"""Measuring a model on annotated clips and the machine: ``homegym eval``, ``tune`` and ``bench``.

They sit above the daemon (they run its pipeline) and never below it."""
