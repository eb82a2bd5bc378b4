"""What the three handlers share: settings, packaged policy, AWS clients, events, audit, notifications."""
