"""Offline IAM access evaluation of policy documents."""
