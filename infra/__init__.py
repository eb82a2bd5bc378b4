"""CDK Terrain stacks of the ML governance blueprint."""
