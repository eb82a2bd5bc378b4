"""One stack per governance concern; each composes constructs and reads only the policy."""
