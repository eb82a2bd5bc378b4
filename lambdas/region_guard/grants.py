"""What the region guard reads (its remedies declare their own grants in ``lambdas/actions.py``).

Read by the handler table when synth or the access review asks; a cold start never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdas.shared.grants import READ_TAGS

if TYPE_CHECKING:
    from iam.grants import Grant

READS: tuple[Grant, ...] = (READ_TAGS,)
