"""One Prefect flow per job; each reads as its stages in order."""
