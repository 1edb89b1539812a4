"""Plain values shared by every layer; imports nothing else of datadam."""
