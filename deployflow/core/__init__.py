"""Pure logic: no Prefect, no subprocesses. Data in, data out."""
