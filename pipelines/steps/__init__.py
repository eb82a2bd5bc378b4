"""Scripts the pipeline runs on SageMaker; each also runs locally with the same arguments."""
