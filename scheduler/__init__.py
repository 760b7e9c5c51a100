"""When: the trigger and the list of what is due at a moment; the work itself is handlers'."""
