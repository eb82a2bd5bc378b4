"""Governed SageMaker pipeline template: models reach the registry already compliant.

Importing this package is cheap; the SageMaker SDK is imported by ``pipelines.definition``
only (about 10 s), and Great Expectations by the validation step only.
"""
