"""The WeChat connection, through wechaty. The only module that imports wechaty (lazily).

Inbound: every wechaty message becomes our `ChatMessage` and goes to `App.feed`, exactly as
the console and replay adapters do; then due replies are drained. Outbound: the outbox calls
`send` with our `OutgoingMessage`; the platform's "sending too often" becomes `ThrottledError`,
which the outbox answers by pausing and retrying the same row later (no second copy).

wechaty's own failure modes, handled here:
- a gateway restart can leave the stream silent with no error: the watchdog reconnects when no
  event (message or heartbeat) arrived for `watchdog_s`;
- the service puppet emits `heartbeat` while wechaty 0.10.7 listens for `heart-beat`: the
  adapter listens on the puppet itself, so a quiet group is not taken for a dead connection;
- wechaty's `start()` sleeps 60 s and restarts on a network error, and stops the whole event
  loop on a puppet error (e.g. the gateway is unreachable): it is not used. The adapter does
  its three steps itself, and a connection that fails or ends is retried with back-off
  (1 s doubling up to a minute), for as long as the gateway is away;
- after a connection that was up is lost, each leader is told privately, once, when the next
  connection has logged in, that the bot was away (what was said meanwhile is not invented;
  the next chain copy carries it);
- a stop cancels the connection first, then stops the bot, each step bounded by a few
  seconds; the caller's own cancellation is never swallowed;
- wechaty keeps files of its own (`job.db`): they go under `[bot] data_dir`, not the working
  directory;
- duplicate message events: the dispatcher dedupes by message id;
- exceptions in handlers are swallowed by its event emitter: ours are caught and logged with
  their traceback, and the bot goes on;
- `Message.date()` is naive local time: the payload's Unix timestamp is used instead;
- files over ~3 MB fail to send: larger files are refused before sending, with a text instead;
- the service client logs its token: the token is redacted from every log record.
"""

from __future__ import annotations

import asyncio
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
STOP_WAIT_S = 3.0  # how long a stop waits for each of its two steps
BACKOFF_FIRST_S = 1.0  # a failed connection is retried after this, doubling …
BACKOFF_MAX_S = 60.0  # … up to this (or the watchdog's period, when shorter)


def export_env(settings: WechatySettings) -> None:
    """The service client reads these variables; set them from the config when not set."""
    if settings.token:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_TOKEN", settings.token)
    if settings.endpoint:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_ENDPOINT", settings.endpoint)
    if settings.no_tls:
        os.environ.setdefault("WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER", "true")


def wechaty_dir(data_dir: Path) -> Path:
    """Where wechaty keeps its own files (its scheduler's `job.db`), under the bot's data."""
    return data_dir / "wechaty"


def import_wechaty(cache_dir: Path | None = None) -> ModuleType:
    """Import wechaty, with the shim it needs on Python 3.11 and a clear error if missing.

    wechaty 0.10.7 declares a dataclass field defaulting to a `PuppetOptions()` instance;
    Python 3.11 refuses unhashable defaults, and dataclasses make PuppetOptions unhashable.
    Giving it identity hashing before the import is enough (python-wechaty#385/#422).

    wechaty creates its cache folder (`CACHE_DIR`, else `./.wechaty`) when it is imported:
    given `cache_dir`, that is where it goes.
    """
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        os.environ["CACHE_DIR"] = str(cache_dir)
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
        self._cache_dir = wechaty_dir(app.config.data_dir)
        self._wechaty = import_wechaty(self._cache_dir)
        self._make_bot = make_bot or self._service_bot
        self.bot: Any = None
        self._task: asyncio.Task[None] | None = None
        self.last_event = asyncio.get_running_loop().time()
        self.reconnects = 0
        self.handled = 0  # inbound messages taken care of (fed, or failed and logged)
        self.away_notices = 0  # outages the leaders were told about (queued, a send tried)
        self._heard = False  # any event on the current connection
        self._up = False  # the current connection logged in or brought a message
        self._away_since: datetime | None = None  # lost at; told at the next login
        self._failures = 0  # connections in a row that never came up
        self._retry_at = 0.0  # loop time before which no new connection is tried
        redact_in_all_loggers(
            [settings.token or "", os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN", "")]
        )

    def _service_bot(self) -> Any:
        export_env(self.settings)
        from wechaty.schema import WechatySchedulerOptions
        from wechaty_puppet import PuppetOptions

        scheduler = WechatySchedulerOptions(job_store=f"sqlite:///{self._cache_dir}/job.db")
        options = self._wechaty.WechatyOptions(
            port=0,  # no plugin web server
            scheduler=scheduler,
            # a fresh one: the default instance is shared, and the service puppet writes the
            # endpoint and token into it (then warns at every connection that there are two)
            puppet_options=PuppetOptions(),
        )
        return self._wechaty.Wechaty(options)

    async def connect(self) -> None:
        """Build a bot, listen to its events, and start it in the background."""
        bot = self._make_bot()
        bot.on("message", self._on_message)
        bot.on("login", self._on_login)
        for event in ("heartbeat", "ready", "dong", "logout", "error"):
            bot.on(event, self._on_event)
        self.bot = bot
        self._heard = self._up = False
        self.last_event = asyncio.get_running_loop().time()
        self._task = asyncio.create_task(self._run(bot))

    async def _run(self, bot: Any) -> None:
        """wechaty's `start()`, without its recoveries: on a network error it sleeps 60 s and
        restarts itself (out of our hands, and deaf to a stop meanwhile), on a puppet error
        it stops the event loop and with it the process. Here the task just ends, and
        `run` connects again with back-off."""
        try:
            await bot.init_puppet()
            await bot.init_puppet_event_bridge(bot.puppet)
            # wechaty bridges `heart-beat`, the service puppet emits `heartbeat`
            bot.puppet.on("heartbeat", self._on_event)
            await bot.puppet.start()  # returns when the gateway ends the event stream
            log.warning("the WeChat gateway closed the connection")
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("the WeChat connection failed: %s", exc or type(exc).__name__)
            log.debug("the WeChat connection failed", exc_info=True)

    async def disconnect(self) -> None:
        """Cancel the connection first, then stop the bot; each step waits at most a few
        seconds. Stopping first would close the channel under the running stream. Only the
        connection's task is cancelled here: if the caller itself is cancelled meanwhile,
        that cancellation goes on to the caller."""
        bot, task = self.bot, self._task
        self.bot, self._task = None, None
        if task is not None:
            if not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=STOP_WAIT_S)
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.warning("the old WeChat connection ended with %r", task.exception())
        if bot is not None:
            try:
                await asyncio.wait_for(bot.stop(), STOP_WAIT_S)
            except Exception as exc:
                log.warning("stopping the old WeChat connection failed (ignored): %r", exc)

    def _on_event(self, *_args: Any) -> None:
        self._heard = True
        self.last_event = asyncio.get_running_loop().time()

    async def _on_login(self, *_args: Any) -> None:
        """Logged in (also after every reconnection): now the leaders can be told."""
        log.info("logged in to WeChat (connection %d)", self.reconnects + 1)
        self._on_event()
        self._up = True
        self._failures = 0
        if self._away_since is None:
            return
        since, self._away_since = self._away_since, None
        try:
            await tell_leaders_away(self.app, since, self.app.clock.now())
        except Exception:
            self._away_since = since  # not queued: the next login tries again
            log.exception("queueing the away notice failed")
            return
        try:
            await self.app.tick(self.send)
        except Exception:
            log.exception("sending the away notice failed; the outbox retries it")
        self.away_notices += 1

    async def _on_message(self, msg: Any) -> None:
        self._on_event()
        self._up = True
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

    def _backoff(self) -> float:
        cap = min(BACKOFF_MAX_S, self.settings.watchdog_s)
        return float(min(cap, BACKOFF_FIRST_S * 2**self._failures))

    def connected(self) -> bool:
        """The connection is running and has shown life within the watchdog's period."""
        task = self._task
        if task is None or task.done():
            return False
        return asyncio.get_running_loop().time() - self.last_event < self.settings.watchdog_s

    async def watchdog_once(self) -> bool:
        """Connect again if the connection ended or has been silent too long, unless still
        backing off; True if it did. A connection that was up marks the start of an outage
        (told at the next login); one that never came up (the gateway away, the QR code not
        yet scanned) lengthens the back-off and tells nobody."""
        if self.connected():
            return False
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            return False
        silent = loop.time() - self.last_event
        ended = self._task is None or self._task.done()
        if self._up:
            if self._away_since is None:
                self._away_since = self.app.clock.now() - timedelta(seconds=silent)
            self._failures = 0
        else:
            self._failures += 1
        log.warning(
            "WeChat connection %s; connecting again (attempt %d)",
            "ended" if ended else f"silent for {silent:.0f} s",
            self._failures + 1,
        )
        await self.disconnect()
        await self.connect()
        self.reconnects += 1
        self._retry_at = loop.time() + self._backoff()
        return True

    async def tell_if_away_since_last_run(self) -> bool:
        """At start: if the last run's connection was last alive longer ago than the watchdog
        allows (a crash, a reboot, an upgrade), the leaders are told, as after a reconnect:
        once this run's connection has logged in."""
        last, now = await last_beat(self.app), self.app.clock.now()
        if last is None or (now - last).total_seconds() < self.settings.watchdog_s:
            return False
        self._away_since = last
        return True

    async def _wait(self, every: float) -> None:
        """Until the next check: `every` seconds, or sooner when the connection ends (then
        until the back-off allows the next attempt)."""
        loop = asyncio.get_running_loop()
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=every)
        if self._task is None or self._task.done():
            await asyncio.sleep(min(every, max(0.05, self._retry_at - loop.time())))

    async def run(self, check_every_s: float | None = None) -> None:
        """Connect and keep the connection alive until cancelled."""
        await self.tell_if_away_since_last_run()
        await self.connect()
        self._retry_at = asyncio.get_running_loop().time() + self._backoff()
        every = check_every_s or max(1.0, self.settings.watchdog_s / 4)
        try:
            while True:
                await self._wait(every)
                try:
                    if not await self.watchdog_once() and self._up and self.connected():
                        await beat(self.app, self.app.clock.now())
                except Exception:
                    log.exception("reconnecting failed; trying again at the next check")
        finally:
            await self.disconnect()
