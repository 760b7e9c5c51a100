"""Tells open pages (dashboard, simulator) that something changed, so they read it again.

Only a nudge: what changed is read from the database through the API, so a page that misses a
nudge (or is served by another process) is stale until the next one, never wrong.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

PING_S = 15.0  # a comment line now and then keeps proxies from closing a quiet stream
QUEUE_SIZE = 64  # a page that stops reading loses nudges, never the bot's memory


class Changes:
    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str | None]] = set()

    def notify(self, what: str) -> None:
        for queue in self._queues:
            if queue.full():  # one pending nudge per kind is as good as many
                continue
            queue.put_nowait(what)

    def close(self) -> None:
        """The server is stopping: every open stream ends now instead of holding the stop up."""
        for queue in self._queues:
            while queue.full():
                queue.get_nowait()
            queue.put_nowait(None)

    @contextmanager
    def listen(self) -> Iterator[asyncio.Queue[str | None]]:
        queue: asyncio.Queue[str | None] = asyncio.Queue(QUEUE_SIZE)
        self._queues.add(queue)
        try:
            yield queue
        finally:
            self._queues.discard(queue)


async def stream(request: web.Request, changes: Changes, event: str) -> web.StreamResponse:
    """Server-sent events: each nudge as `event`, until the page goes away."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    await response.write(b"retry: 1000\n\n")
    with changes.listen() as queue:
        while True:
            try:
                what = await asyncio.wait_for(queue.get(), PING_S)
            except TimeoutError:
                await response.write(b": ping\n\n")
                continue
            if what is None:
                return response
            await response.write(f"event: {event}\ndata: {what}\n\n".encode())
