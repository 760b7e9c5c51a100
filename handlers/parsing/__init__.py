"""Pure text understanding: chain posts, quantities, product matching. No I/O here."""
