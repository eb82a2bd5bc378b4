"""Deployment guard: every endpoint serves only model versions the approval gate cleared, or it is quarantined."""
