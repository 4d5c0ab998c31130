"""The Typer CLI: options, one call, a printed result. Heavy imports stay inside commands."""
