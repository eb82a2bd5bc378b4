"""Every IAM document the blueprint creates, built from the policy: boundaries, role policies, trust and resource policies.

Plain functions returning dicts. Stacks and constructs render them; the IAM review and the
access matrix read what they synthesize to. Nothing here imports cdktn, boto3 or a handler.
"""
