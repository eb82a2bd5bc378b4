"""Make the project's packages importable inside a SageMaker container.

Locally the repository is on sys.path. On SageMaker the source bundle is mounted at
/opt/ml/processing/input/source (processing) or /opt/ml/input/data/code (training).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONTAINER_SOURCE_ROOTS = ("/opt/ml/processing/input/source", "/opt/ml/input/data/code")


def ensure_importable() -> None:
    try:
        import pipelines  # noqa: F401
    except ImportError:
        root = os.environ.get("GOVERNED_SOURCE_ROOT") or next((p for p in CONTAINER_SOURCE_ROOTS if Path(p).is_dir()), ".")
        sys.path.insert(0, root)


def ensure_requirements(module: str) -> None:
    """Install the bundle's pinned requirements when ``module`` is missing (inside a SageMaker container)."""
    import importlib.util
    import subprocess
    from pathlib import Path

    if importlib.util.find_spec(module) is not None:
        return
    requirements = Path(__file__).with_name("requirements.txt")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-r", str(requirements)], check=True)
