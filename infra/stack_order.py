"""Stack names in deployment order (kept apart from app.py so tools need not import cdktn)."""

STACK_NAMES: tuple[str, ...] = ("foundation", "identity", "model-registry", "monitoring", "enforcement")
