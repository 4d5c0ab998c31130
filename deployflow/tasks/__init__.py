"""One Prefect task per deploy stage: thin wrappers adding retries, caching and run logging."""
