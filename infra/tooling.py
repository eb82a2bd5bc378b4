"""Locating the tools the build uses (uv), the same way from every entry point."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ToolMissing(RuntimeError):
    pass


def uv_binary() -> str:
    """``$UV``, else uv on PATH, else the copy the Makefile bootstraps into .tools/."""
    for candidate in (os.environ.get("UV"), shutil.which("uv"), str(REPO / ".tools" / "bin" / "uv")):
        if candidate and Path(candidate).exists():
            return candidate
    raise ToolMissing("uv is not installed: run `make install` (it bootstraps uv into .tools/)")
