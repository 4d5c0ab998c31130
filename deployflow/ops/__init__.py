"""Operations: deploy, rollback, recover, config sync, services; each takes the root lock."""
