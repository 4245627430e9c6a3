"""Browser views of the evaluations app, one module per feature."""
