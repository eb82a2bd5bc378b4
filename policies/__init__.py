"""Policy as code: the governance policy model, its loader, and the pure decision rules."""
