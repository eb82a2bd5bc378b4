"""One stack per governance concern; each composes constructs and reads only the policy."""

import infra.node  # noqa: F401  (the bundled Node.js and the kernel's environment, before anything loads cdktn)
