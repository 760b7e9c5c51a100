"""WeChat's own 接龙 tool ("Group Note"): an app message (appmsg type 53) read into a chain.

The message is XML. `<title>` holds the whole chain as people see it; `<solitaire_info>` (XML
again, often inside CDATA) lists each entry with its author's contact id (`<u>`), the time it
was written (`<t>`, Unix seconds) and where its text sits in the title (`<r>start-length</r>`,
counted in UTF-16 code units, without the `N. ` in front). That is what lets the bot credit
every entry to the person who really wrote it, instead of to whoever posted the update.

Parsing is defensive: defusedxml refuses entity tricks (no external entities, no expansion
bombs), and anything that does not fit yields None or entries without authors: the text
still reads as an ordinary chain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

NATIVE_CHAIN_TYPE = "53"
MAX_XML = 500_000  # characters; a chain of 500 entries is ~40 KB
_SENDER_PREFIX = re.compile(r"^[\w@.\-]{1,128}:\s*\n")  # "wxid_abc:\n<?xml ..." in rooms
_RANGE = re.compile(r"^\s*(\d{1,7})\s*-\s*(\d{1,7})\s*$")


@dataclass(frozen=True, slots=True)
class NativeEntry:
    """One entry of a native chain: its text, and who wrote it when (if the XML says)."""

    text: str
    author: str | None = None
    written_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NativeChain:
    header: str
    entries: tuple[NativeEntry, ...]
    creator: str | None = None

    def chain_text(self) -> str:
        """The chain as our text parser reads it: the header, then `N. entry` per line."""
        lines = [self.header.rstrip()] if self.header.strip() else ["#接龙"]
        if "接龙" not in lines[0]:
            lines.insert(0, "#接龙")
        for n, e in enumerate(self.entries, 1):
            one_line = " ".join(part.strip() for part in e.text.splitlines() if part.strip())
            lines.append(f"{n}. {one_line}")
        return "\n".join(lines)

    def authors_by_seq(self) -> dict[int, str]:
        """Entry number (as in chain_text) → the contact id of its author, where known."""
        return {n: e.author for n, e in enumerate(self.entries, 1) if e.author}


def strip_sender_prefix(text: str) -> str:
    """Room app messages may start with the sender's id and a newline; drop it."""
    return _SENDER_PREFIX.sub("", text.lstrip("\ufeff"), count=1).lstrip()


def _utf16_slice(text: str, start: int, length: int) -> str | None:
    data = text.encode("utf-16-le")
    if start < 0 or length < 0 or 2 * (start + length) > len(data):
        return None
    return data[2 * start : 2 * (start + length)].decode("utf-16-le", errors="replace")


def _range(el: Element | None) -> tuple[int, int] | None:
    m = _RANGE.match(el.text or "") if el is not None else None
    return (int(m.group(1)), int(m.group(2))) if m else None


def _when(el: Element | None) -> datetime | None:
    raw = (el.text or "").strip() if el is not None else ""
    if not raw.isdigit():
        return None
    seconds = int(raw)
    if seconds > 10**11:  # milliseconds
        seconds //= 1000
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _entries_from_info(title: str, info_xml: str) -> tuple[tuple[NativeEntry, ...], str, str]:
    """Entries with authors from `<solitaire>`, the header text and the chain's creator."""
    root = SafeET.fromstring(info_xml)
    solitaire = root if root.tag == "solitaire" else root.find(".//solitaire")
    if solitaire is None:
        raise ValueError("no <solitaire>")
    creator = (solitaire.findtext("au") or "").strip()
    head_range = _range(solitaire.find("tt"))
    header = _utf16_slice(title, *head_range) if head_range else None
    entries: list[NativeEntry] = []
    for item in solitaire.iterfind("./content/i"):
        span = _range(item.find("r"))
        text = _utf16_slice(title, *span) if span else None
        if text is None:
            raise ValueError("entry range outside the title")
        entries.append(
            NativeEntry(
                text=text,
                author=(item.findtext("u") or "").strip() or None,
                written_at=_when(item.find("t")),
            )
        )
    if header is None:
        header = title.split("\n1", 1)[0]
    return tuple(entries), header, creator


def parse_native_chain(text: str) -> NativeChain | None:
    """A native 接龙 from an app message's XML, or None if this is some other app message."""
    xml = strip_sender_prefix(text)
    if not xml.startswith("<") or len(xml) > MAX_XML:
        return None
    try:
        root = SafeET.fromstring(xml)
    except Exception:  # malformed, or refused by defusedxml (entities, DTDs)
        return None
    appmsg = root if root.tag == "appmsg" else root.find("appmsg")
    if appmsg is None or (appmsg.findtext("type") or "").strip() != NATIVE_CHAIN_TYPE:
        return None
    title = appmsg.findtext("title") or ""
    info = appmsg.findtext("extinfo/solitaire_info") or ""
    if not info.strip():
        nested = appmsg.find("extinfo/solitaire_info/solitaire")
        info = SafeET.tostring(nested, encoding="unicode") if nested is not None else ""
    if info.strip():
        try:
            entries, header, creator = _entries_from_info(title, info)
            return NativeChain(header=header, entries=entries, creator=creator or None)
        except Exception:  # an info block we cannot follow: read the title as text instead
            return _from_title_only(title)
    return _from_title_only(title)


_NUMBERED = re.compile(r"^\s*(\d{1,4})[.．、]\s*(.*)$")


def _from_title_only(title: str) -> NativeChain | None:
    """No usable author list: split the title into header and numbered entries."""
    if not title.strip():
        return None
    header: list[str] = []
    entries: list[list[str]] = []
    for line in title.splitlines():
        m = _NUMBERED.match(line)
        if m:
            entries.append([m.group(2)])
        elif entries:
            entries[-1].append(line)  # an entry written over several lines
        else:
            header.append(line)
    return NativeChain(
        header="\n".join(header), entries=tuple(NativeEntry("\n".join(e)) for e in entries)
    )
