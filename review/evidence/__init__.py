"""The evidence report: audit records of a period, counted and mapped to the controls they evidence, as JSON and one HTML page."""
