"""What the tamper watch reads: the aliases of a key a KMS call names (it only records and alerts).

Read by the handler table when synth or the access review asks; a cold start never imports it.
"""

from __future__ import annotations

from iam.grants import Grant, On

READS: tuple[Grant, ...] = (
    Grant("ReadKeyAliases", ("kms:ListAliases",), (On.ANY,)),
)  # ListAliases has no resource-level permission
