"""Data-classification tags: every SageMaker resource carries a level at least as strict as its project's."""
