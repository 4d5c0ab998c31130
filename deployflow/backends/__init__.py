"""The only code that touches the outside world: files, commands, services, databases."""
