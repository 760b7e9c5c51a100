"""groupbuy-bot core: chat-platform-neutral types, wiring, dispatch, outbox and CLI."""
