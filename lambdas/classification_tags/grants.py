"""What the classification-tags handler reads (its remedies declare their own grants in ``lambdas/actions.py``).

Read by the handler table when synth or the access review asks; a cold start never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lambdas.shared.grants import READ_RUN_AS_ROLE, READ_TAGS

if TYPE_CHECKING:
    from iam.grants import Grant

READS: tuple[Grant, ...] = (READ_TAGS, READ_RUN_AS_ROLE)
