"""Operator sessions: a signed cookie after logging in with the admin token, and CSRF tokens.

The cookie holds an expiry and a random nonce, signed with a key derived from the token, so any
process that knows the token can check it and no session lives only in one process's memory.
Changing the token logs everyone out. The CSRF token is derived from the nonce: a page gets it
in its forms, and every state-changing request must send it back (form field or X-CSRF-Token).
The token itself is only ever typed into the login form; it is never in a URL or a page.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "groupbuy_session"
LOGIN_COOKIE = "groupbuy_login"  # the login form's own CSRF token (double-submit)
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"
LIFETIME_S = 12 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    nonce: str
    expires: int

    @property
    def cookie(self) -> str:
        return f"{self.expires}.{self.nonce}"


class Sessions:
    def __init__(self, token: str) -> None:
        self._token = token.encode()
        self._key = hashlib.sha256(b"groupbuy-session\0" + self._token).digest()
        self._ended: set[str] = set()  # nonces logged out in this process

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self._token)

    def _sign(self, text: str) -> str:
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def start(self, now: float | None = None) -> str:
        """A new session's cookie value."""
        session = Session(secrets.token_urlsafe(16), int((now or time.time()) + LIFETIME_S))
        return f"{session.cookie}.{self._sign(session.cookie)}"

    def check(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie proves, or None (missing, forged, expired or logged out)."""
        if not cookie or cookie.count(".") != 2:
            return None
        expires, nonce, sig = cookie.split(".")
        if not hmac.compare_digest(sig, self._sign(f"{expires}.{nonce}")):
            return None
        if not expires.isdigit() or int(expires) < (now or time.time()) or nonce in self._ended:
            return None
        return Session(nonce, int(expires))

    def end(self, session: Session) -> None:
        self._ended.add(session.nonce)

    def csrf(self, session: Session) -> str:
        return self._sign(f"csrf:{session.nonce}")

    def csrf_ok(self, session: Session, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given), self.csrf(session))
