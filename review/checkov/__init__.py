"""Custom checkov checks: the organization's rules (policies.rules.infrastructure) as checkov checks."""
