"""Reviews of the synthesized infrastructure that need no AWS account."""
