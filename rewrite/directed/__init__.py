"""Directed rewriting: derivations as library rules applied in a chosen order at chosen places.

The differentiate, isolate, collect and tidy stages of a derivation are term rewriting in a fixed
order, not search, so they run here on one term (linear in its size) rather than in an e-graph
(which keeps every intermediate form alive).  Every change goes through the proof kernel
(`rewrite.proof.kernel.apply`), so the steps recorded are the proof, with nothing to reconstruct.
Equality saturation (egglog) stays for what needs search: proving identities (`verification`).

- `rewriter.py`   the term being rewritten, its steps and budgets
- `differentiate.py`  push d(.) to the variable
- `isolate.py`    reverse-mode peeling to tr(G'*dX) per occurrence of dX, then collecting
- `tidy.py`       a normal form for the gradient G
"""
