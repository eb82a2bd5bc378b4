"""Stack names in deployment order (kept apart from app.py so tools need not import cdktn).

A stack only looks up what stacks in earlier waves created (keys by alias, roles and the
boundary by name), so the stacks of one wave can be applied at the same time. The app
declares these dependencies on the stacks (``TerraformStack.add_dependency``), so
``cdktf.out/manifest.json`` carries them and ``cdktn deploy`` applies the waves in order.
"""

DEPLOY_WAVES: tuple[tuple[str, ...], ...] = (
    ("foundation",),
    ("identity",),
    ("audit-trail", "model-registry", "monitoring", "enforcement"),
)
STACK_NAMES: tuple[str, ...] = tuple(name for wave in DEPLOY_WAVES for name in wave)


def stack_dependencies(waves: tuple[tuple[str, ...], ...] = DEPLOY_WAVES) -> dict[str, tuple[str, ...]]:
    """Each stack with the stacks it depends on: every stack of every earlier wave."""
    found: dict[str, tuple[str, ...]] = {}
    earlier: tuple[str, ...] = ()
    for wave in waves:
        for name in wave:
            found[name] = earlier
        earlier += wave
    return found
