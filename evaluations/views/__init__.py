"""Pages of the evaluations app, one module per feature."""
