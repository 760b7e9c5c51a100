"""The browser side: the operator dashboard and the chat simulator (aiohttp + jinja2)."""
