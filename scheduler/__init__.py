"""Time-driven work: closing rounds at cutoff, reminders, reports, and the tallies they post."""
