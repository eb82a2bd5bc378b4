"""Stack names in deployment order (kept apart from app.py so tools need not import cdktn).

A stack only looks up what stacks in earlier waves created (keys by alias, roles and the
boundary by name), so the stacks of one wave can be applied at the same time.
"""

DEPLOY_WAVES: tuple[tuple[str, ...], ...] = (
    ("foundation",),
    ("identity",),
    ("audit-trail", "model-registry", "monitoring", "enforcement"),
)
STACK_NAMES: tuple[str, ...] = tuple(name for wave in DEPLOY_WAVES for name in wave)
