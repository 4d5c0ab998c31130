"""Terminal user interfaces (Textual): imported only by the commands that open them."""
