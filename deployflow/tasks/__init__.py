"""Prefect's side of the stages: one generic task wrapper (retries, logging, redaction)."""
