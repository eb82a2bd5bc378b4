"""Tamper watch: calls that would switch governance off are recorded and alerted, attempted or done."""
