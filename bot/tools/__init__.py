"""Tools beside the running bot (the benchmark): never imported by it, only by their commands."""
