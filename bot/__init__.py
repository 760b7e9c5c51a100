"""The running bot, top layer: wiring (App), dispatch, the sender, the HTTP API, the CLI and
the adapters."""
