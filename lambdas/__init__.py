"""Run-time enforcement: EventBridge-triggered handlers that apply the governance policy."""
