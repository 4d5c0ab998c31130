"""CI webhooks (open-source Prefect has none): verify a delivery, map it to a deployment run."""
