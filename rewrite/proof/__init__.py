"""Proofs: the trusted kernel and checker, the `rewrite-proof/2` format (model), renderers, and
the reconstruction of proofs from e-graphs (for identities).

Kept empty on purpose: importing `rewrite.proof.checker` must not pull in the engine or the
reconstruction (`rewrite.proof.build`, `rewrite.proof.reconstruct`), which import egglog.
"""
