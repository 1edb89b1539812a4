"""Projects: one dataset under construction, owned by an institution."""
