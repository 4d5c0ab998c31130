"""Prefect blocks deployflow uses for what users keep on the server: secrets, notifiers."""
