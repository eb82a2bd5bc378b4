"""Region guard: SageMaker work outside the allowed Regions is stopped or deleted."""
