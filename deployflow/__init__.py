"""deployflow: deployment automation as code, built on Prefect 3."""

__version__ = "0.1.0"
