"""Paper reproductions and synthetic data (``python -m polymom_apps.experiments.table3``)."""
