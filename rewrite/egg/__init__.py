"""The egglog backend: terms and rules compiled to egglog programs, runs under budgets, and
snapshots of the resulting e-graph read back into Python (for extraction and proofs)."""
