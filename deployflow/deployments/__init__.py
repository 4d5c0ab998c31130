"""Prefect deployments built from the stack file: one per flow and target, on its work pool."""
