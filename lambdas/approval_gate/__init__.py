"""Approval gate: a model version that becomes Approved must meet the policy's approval rules."""
