"""Commands as people type them: `#截单`, `/截单`, `＃截单`, `截单`, `取消 3`, `取消3号`.

A command is a short single-line message whose first word is a known verb; anything longer or
multi-line is chat or a chain, never a command (a chain head may well contain the word 截单).
A verb run straight into more words (`分拣单是什么`, `代接的也算吗`) or a question
(`分拣单 怎么用？`) is chat unless typed with `#` or `/`: people talk about commands too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import IntEnum

MAX_COMMAND_LEN = 80  # 绑定 <room id> <leader id> <route> <topic> is the longest
_PREFIX = re.compile(r"^[#/]\s*")
_ARG_SPLIT = re.compile(r"[\s,，、]+")
# After a verb, these may follow without a space: a number (`取消3号`, `删第4条`).
_GLUED_ARG = re.compile(r"^(?:第|No\.?|#)?\d")
_QUESTION = re.compile(r"[?？吗呢么]$")


class Role(IntEnum):
    """Roles by contact id (config), never by display name. Higher includes lower."""

    RESIDENT = 1
    LEADER = 2
    ADMIN = 3


@dataclass(frozen=True, slots=True)
class Command:
    verb: str
    args: tuple[str, ...]
    prefixed: bool  # typed with # or /: clearly meant for the bot
    chatty: bool = False  # unprefixed, and the verb runs into words or asks a question


def parse_command(text: str, verbs: frozenset[str]) -> Command | None:
    """The command in `text` if its first word is one of `verbs`, else None."""
    stripped = text.strip()
    if not stripped or "\n" in stripped or len(stripped) > MAX_COMMAND_LEN:
        return None
    folded = unicodedata.normalize("NFKC", stripped)
    prefixed = bool(_PREFIX.match(folded))
    body = _PREFIX.sub("", folded, count=1)
    for verb in sorted(verbs, key=len, reverse=True):
        if body.startswith(verb):
            after = body[len(verb) :]
            rest = after.strip()
            args = tuple(a for a in _ARG_SPLIT.split(rest) if a)
            glued = bool(after) and after == after.lstrip() and not _GLUED_ARG.match(after)
            chatty = not prefixed and bool(rest) and (glued or bool(_QUESTION.search(rest)))
            return Command(verb, args, prefixed, chatty)
    return None


def parse_seq(arg: str) -> int | None:
    """`3`, `3号`, `第3条`, `No.3` → 3."""
    m = re.search(r"\d{1,4}", arg)
    return int(m.group()) if m else None
