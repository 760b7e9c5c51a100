"""Build WeChat native 接龙 XML (appmsg type 53) the way the app writes it, for transcripts.

The layout follows the public sample in tests/fixtures/native/public_checkin.xml: the whole
chain in <title>, and in <solitaire_info> each entry's author, time and UTF-16 range.
"""

from __future__ import annotations

from xml.sax.saxutils import escape


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def native_chain_xml(
    header: str, entries: list[tuple[str, str]], *, creator: str, sender: str | None = None
) -> str:
    """`entries` are (author contact id, entry text) in chain order."""
    title = header.rstrip("\n") + "\n\n"
    head_len = _u16(header.rstrip("\n"))
    items = []
    for n, (author, text) in enumerate(entries, 1):
        prefix = f"{n}. "
        start = _u16(title + prefix)
        title += prefix + text + "\n"
        items.append(
            f"<i><u>{author}</u><h>0</h><s>.</s><t>{1795480000 + n}</t>"
            f"<r>{start}-{_u16(text)}</r></i>"
        )
    title = title.rstrip("\n")
    info = (
        f"<solitaire><tt>0-{head_len}</tt><s>.</s><au>{creator}</au><hrt>1</hrt><loss>0</loss>"
        f"<content><s>{len(entries)}</s>{''.join(items)}</content></solitaire>"
    )
    xml = (
        '<?xml version="1.0"?>\n<msg>\n\t<appmsg appid="" sdkver="0">\n'
        f"\t\t<title>{escape(title)}</title>\n\t\t<des />\n\t\t<type>53</type>\n"
        f"\t\t<extinfo>\n\t\t\t<solitaire_info><![CDATA[{info}]]></solitaire_info>\n"
        "\t\t</extinfo>\n\t</appmsg>\n"
        f"\t<fromusername>{sender or creator}</fromusername>\n</msg>\n"
    )
    return f"{sender}:\n{xml}" if sender else xml
