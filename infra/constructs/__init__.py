"""Constructs for the shapes the blueprint repeats: a managed key, an encrypted bucket, a governed Lambda."""

import infra.node  # noqa: F401  (the bundled Node.js and the kernel's environment, before anything loads cdktn)
