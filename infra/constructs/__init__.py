"""Constructs for the shapes the blueprint repeats: a managed key, an encrypted bucket, a governed Lambda."""
