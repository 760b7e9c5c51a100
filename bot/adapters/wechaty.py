"""The WeChat connection, through wechaty. The only module that imports wechaty (lazily).

Inbound: every wechaty message becomes our `ChatMessage` and goes to `App.feed`, exactly as
the console and replay adapters do; then due replies are drained. Outbound: the outbox calls
`send` with our `OutgoingMessage`; the platform's "sending too often" becomes `ThrottledError`,
which the outbox answers by pausing and retrying the same row later (no second copy).

wechaty's own failure modes, handled here:
- a gateway restart can leave the stream silent with no error: the watchdog reconnects when no
  event (message or heartbeat) arrived for `watchdog_s`, and the leaders are told privately
  that the bot was away (what was said meanwhile is not invented; the next chain copy
  carries it);
- duplicate message events: the dispatcher dedupes by message id;
- exceptions in handlers are swallowed by its event emitter: ours are caught and logged with
  their traceback, and the bot goes on;
- `Message.date()` is naive local time: the payload's Unix timestamp is used instead;
- files over ~3 MB fail to send: larger files are refused before sending, with a text instead;
- the service client logs its token: the token is redacted from every log record.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from bot.app import App
from bot.away import beat, last_beat, tell_leaders_away
from bot.limits import ThrottledError
from models.config import WechatySettings
from models.messages import ChatMessage, OutgoingMessage

log = logging.getLogger(__name__)

# Words the platform uses when it refuses a send for sending too often.
THROTTLE_SIGNS = ("频繁", "过于频繁", "too frequent", "frequency", "rate limit", "ratelimit")
_REVOKE_ID = re.compile(r"<newmsgid>\s*(\d+)\s*</newmsgid>")
_MS_THRESHOLD = 10**11  # a timestamp above this is in milliseconds
AT_SEPARATOR = "\u2005"  # what WeChat puts after an @mention (a four-per-em space)


def export_env(settings: WechatySettings) -> None:
    """The service client reads these variables; set them from the config when not set."""
    if settings.token:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_TOKEN", settings.token)
    if settings.endpoint:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_ENDPOINT", settings.endpoint)
    if settings.no_tls:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER", "true")


def import_wechaty() -> ModuleType:
    """Import wechaty, with the shim it needs on Python 3.11 and a clear error if missing.

    wechaty 0.10.7 declares a dataclass field defaulting to a `PuppetOptions()` instance;
    Python 3.11 refuses unhashable defaults, and dataclasses make PuppetOptions unhashable.
    Giving it identity hashing before the import is enough (python-wechaty#385/#422).
    """
    try:
        import wechaty_puppet
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the wechaty adapter needs its extra: pip install 'groupbuy-bot[wechaty]'"
        ) from exc
    wechaty_puppet.PuppetOptions.__hash__ = object.__hash__
    return importlib.import_module("wechaty")


_SECRETS: set[str] = set()


def redact_in_all_loggers(secrets: list[str]) -> None:
    """Every log record, from any logger (wechaty's do not propagate and log the token in
    plain text), is redacted when it is created, before any handler or filter sees it."""
    fresh = {s for s in secrets if s} - _SECRETS
    if not fresh:
        return
    first = not _SECRETS
    _SECRETS.update(fresh)
    if not first:
        return
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        text = record.getMessage()
        if any(secret in text for secret in _SECRETS):
            for secret in _SECRETS:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
        return record

    logging.setLogRecordFactory(redacting_factory)


def message_time(timestamp: int | float | None) -> datetime:
    """The payload's Unix time (seconds or milliseconds) as an aware UTC time."""
    if not timestamp:
        return datetime.now(UTC)
    seconds = timestamp / 1000 if timestamp > _MS_THRESHOLD else timestamp
    return datetime.fromtimestamp(seconds, UTC)


def recalled_id(text: str) -> str:
    """The recalled message's id: the text itself, or `<newmsgid>` in a revoke notice."""
    found = _REVOKE_ID.search(text)
    return found.group(1) if found else text.strip()


def kind_of(type_name: str, text: str) -> str:
    """Our kind for a wechaty message type name (MESSAGE_TYPE_TEXT …) and its text."""
    name = type_name.upper().removeprefix("MESSAGE_TYPE_")
    if name == "TEXT":
        return "text"
    if name == "RECALLED":
        return "recall"
    if "<appmsg" in text:
        return "app"  # WeChat's native 接龙 has no type of its own in this client
    return name.lower() or "unknown"


def to_chat_message(
    *,
    message_id: str,
    room_id: str | None,
    talker_id: str,
    talker_name: str,
    text: str,
    type_name: str,
    timestamp: int | float | None,
    mention_ids: list[str] | None,
) -> ChatMessage:
    kind = kind_of(type_name, text)
    return ChatMessage(
        id=message_id,
        room=room_id or None,
        sender=talker_id,
        sender_name=talker_name or talker_id,
        text=recalled_id(text) if kind == "recall" else text,
        ts=message_time(timestamp),
        mentions=tuple(mention_ids or ()),
        kind=kind,
    )


def is_throttle(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(sign in text for sign in THROTTLE_SIGNS)


class WechatyAdapter:
    """Connects one WeChat account (one wechaty bot) to the App, and keeps it connected.

    `make_bot` builds a fresh `Wechaty` for every (re)connection: wechaty registers its event
    bridge on each start, so reusing one object after a restart would deliver events twice.
    """

    def __init__(
        self,
        app: App,
        settings: WechatySettings,
        make_bot: Callable[[], Any] | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self._wechaty = import_wechaty()
        self._make_bot = make_bot or self._service_bot
        self.bot: Any = None
        self._task: asyncio.Task[None] | None = None
        self.last_event = asyncio.get_running_loop().time()
        self.reconnects = 0
        self.handled = 0  # inbound messages taken care of (fed, or failed and logged)
        self._heard = False  # any event on the current connection (a silent login is not news)
        redact_in_all_loggers(
            [settings.token or "", os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "")]
        )

    def _service_bot(self) -> Any:
        export_env(self.settings)
        options = self._wechaty.WechatyOptions(port=0)  # no plugin web server
        return self._wechaty.Wechaty(options)

    async def connect(self) -> None:
        """Build a bot, listen to its events, and start it in the background."""
        bot = self._make_bot()
        bot.on("message", self._on_message)
        for event in ("heartbeat", "login", "ready", "dong", "logout", "error"):
            bot.on(event, self._on_event)
        self.bot = bot
        self._heard = False
        self.last_event = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(bot))

    async def _run(self, bot: Any) -> None:
        try:
            await bot.start()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the WeChat connection stopped; the watchdog will reconnect")

    async def disconnect(self) -> None:
        bot, task = self.bot, self._task
        self.bot, self._task = None, None
        if bot is not None:
            try:
                await bot.stop()
            except Exception:
                log.exception("stopping the old WeChat connection failed (ignored)")
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task  # it ends by cancellation; its errors were logged in _run

    def _on_event(self, *_args: Any) -> None:
        self._heard = True
        self.last_event = asyncio.get_running_loop().time()

    async def _on_message(self, msg: Any) -> None:
        self._on_event()
        try:
            chat = await self.convert(msg)
            if chat is None:
                return
            await self.app.feed(chat)
            await self.app.tick(self.send)
        except Exception:
            log.exception("handling a WeChat message failed; the bot goes on")
        finally:
            self.handled += 1

    async def convert(self, msg: Any) -> ChatMessage | None:
        """A wechaty Message as our ChatMessage; None for the bot's own messages."""
        payload = msg.payload
        if payload is None:
            return None
        if payload.from_id and self.bot is not None and payload.from_id == self._self_id():
            return None
        type_obj = payload.type
        return to_chat_message(
            message_id=str(payload.id or msg.message_id),
            room_id=payload.room_id or None,
            talker_id=payload.from_id or "",
            talker_name=await self._talker_name(msg),
            text=payload.text or "",
            type_name=getattr(type_obj, "name", str(type_obj)),
            timestamp=payload.timestamp,
            mention_ids=list(payload.mention_ids or []),
        )

    @staticmethod
    async def _talker_name(msg: Any) -> str:
        """The sender's WeChat name; empty when the gateway cannot say (the id stands in)."""
        try:
            talker = msg.talker()
            await talker.ready()
            return str(talker.name or "")
        except Exception:
            return ""

    def _self_id(self) -> str | None:
        try:
            return str(self.bot.puppet.self_id())
        except Exception:
            return None

    async def send(self, out: OutgoingMessage) -> None:
        """Send one outbox message. Raises ThrottledError when the platform says 'too often'.

        The puppet is called directly: wechaty's `say()` sends and then reads the sent message
        back, and that read can fail after the message went out; the outbox would then send
        it again. Here an exception means the platform refused the message.
        """
        if self.bot is None:
            raise ConnectionError("WeChat is not connected")
        puppet = self.bot.puppet
        conversation = out.room if out.room is not None else out.to
        try:
            if out.file_path:
                await self._send_file(puppet, conversation, out)
            elif out.room is not None and out.mentions:
                text = await self._with_mentions(out.text, out.mentions)
                await puppet.message_send_text(conversation, text, list(out.mentions))
            else:
                await puppet.message_send_text(conversation, out.text)
        except Exception as exc:
            if is_throttle(exc):
                raise ThrottledError(str(exc)) from exc
            raise

    async def _with_mentions(self, text: str, mentions: tuple[str, ...]) -> str:
        """`@name` in front, as WeChat shows a mention; our replies already begin with the
        name, which is then not written twice."""
        names: list[str] = []
        for who in mentions:
            contact = self.bot.Contact.load(who)
            try:
                await contact.ready()
                name = str(contact.name or who)
            except Exception:
                name = who
            names.append(name)
            if text.startswith(name):
                text = text[len(name) :].lstrip()
        return AT_SEPARATOR.join(f"@{n}" for n in names) + AT_SEPARATOR + text

    async def _send_file(self, puppet: Any, conversation: str | None, out: OutgoingMessage) -> None:
        path = Path(out.file_path or "")
        size_mb = path.stat().st_size / 1_000_000
        if size_mb > self.settings.max_file_mb:
            await puppet.message_send_text(
                conversation,
                f"{out.text}\n文件 {path.name} 有 {size_mb:.1f} MB，超过微信机器人能发的 "
                f"{self.settings.max_file_mb:g} MB；请在服务器上取：{path}",
            )
            return
        from wechaty_puppet import FileBox

        if out.text:
            await puppet.message_send_text(conversation, out.text)
        await puppet.message_send_file(conversation, FileBox.from_file(str(path), name=path.name))

    async def watchdog_once(self) -> bool:
        """Reconnect if the connection has been silent too long; True if it reconnected."""
        loop = asyncio.get_running_loop()
        silent = loop.time() - self.last_event
        if silent < self.settings.watchdog_s:
            return False
        away_since = self.app.clock.now() - timedelta(seconds=silent)
        was_up = self._heard  # else it never came up (e.g. waiting for the QR code): no news
        log.warning("no WeChat event for %.0f s; reconnecting", silent)
        await self.disconnect()
        await self.connect()
        self.reconnects += 1
        if was_up:
            await tell_leaders_away(self.app, away_since, self.app.clock.now())
            await self.app.tick(self.send)
        return True

    async def tell_if_away_since_last_run(self) -> bool:
        """At start: if the last run's connection was last alive longer ago than the watchdog
        allows (a crash, a reboot, an upgrade), the leaders are told, as after a reconnect."""
        last, now = await last_beat(self.app), self.app.clock.now()
        if last is None or (now - last).total_seconds() < self.settings.watchdog_s:
            return False
        await tell_leaders_away(self.app, last, now)
        return True

    async def run(self, check_every_s: float | None = None) -> None:
        """Connect and keep the connection alive until cancelled."""
        await self.tell_if_away_since_last_run()
        await self.connect()
        every = check_every_s or max(1.0, self.settings.watchdog_s / 4)
        try:
            while True:
                await asyncio.sleep(every)
                try:
                    if not await self.watchdog_once():
                        await beat(self.app, self.app.clock.now())
                except Exception:
                    log.exception("reconnecting failed; trying again at the next check")
        finally:
            await self.disconnect()
