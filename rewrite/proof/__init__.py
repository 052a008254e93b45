"""Proofs: the `rewrite-proof/1` format (model), the trusted checker, and renderers.

Kept empty on purpose: importing `rewrite.proof.checker` must not pull in the engine or the
reconstruction (`rewrite.proof.build`, `rewrite.proof.reconstruct`), which import egglog.
"""
