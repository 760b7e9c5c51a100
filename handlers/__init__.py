"""Chat handlers: chain ordering and the commands of each role."""
