"""Building and room as residents write them beside their name: `5栋302`, `12-502`,
`3号楼1单元201`, `5#302`, `5幢`, `2-1-301` (pure).

Sorting lists (分拣单) group the goods by building and room, so a line that names neither
goes to the end under "未写楼号" rather than being guessed into a building.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# 3号楼1单元201 · 5栋302 · 5幢 · 5#302 · 5座1201 · 12号楼-502
_BUILDING = re.compile(
    r"(?<!\d)(\d{1,3})\s*(?:号楼|号栋|栋|幢|号|#|座|楼(?=\s*\d))\s*"
    r"(?:(\d{1,2})\s*(?:单元|门))?\s*[-－—_]?\s*(?:(\d{3,4})(?:室|号)?)?(?!\d)"
)
# 2-1-301 (building-unit-room) · 12-502 (building-room)
_DASHED = re.compile(r"(?<![\d.])(\d{1,3})[-－—](?:(\d{1,2})[-－—])?(\d{3,4})(?![\d.])")


@dataclass(frozen=True, slots=True)
class Address:
    building: int | None = None
    unit: int | None = None
    room: int | None = None
    text: str = ""  # the address as written, removed from the name

    @property
    def building_label(self) -> str:
        if self.building is None:
            return "未写楼号"
        return f"{self.building}栋" + (f"{self.unit}单元" if self.unit is not None else "")

    @property
    def room_label(self) -> str:
        return str(self.room) if self.room is not None else ""

    def sort_key(self) -> tuple[int, int, int]:
        big = 1_000_000  # no building: last
        return (
            self.building if self.building is not None else big,
            self.unit if self.unit is not None else 0,
            self.room if self.room is not None else 0,
        )


def read_address(*texts: str | None) -> Address:
    """The first building (and unit, room) written in these texts (a name, then a note)."""
    for raw in texts:
        if not raw or not any(ch.isdigit() for ch in raw):
            continue  # most names have no number at all: no pattern to try
        text = unicodedata.normalize("NFKC", raw)
        for pattern in (_BUILDING, _DASHED):
            m = pattern.search(text)
            if m is None:
                continue
            building, unit, room = (int(g) if g else None for g in m.groups())
            return Address(building, unit, room, m.group().strip())
    return Address()


def person_of(name: str, address: Address) -> str:
    """`3栋502 李姐` → `李姐`; a name that is only an address stays as written."""
    if not address.text:
        return name.strip()
    rest = unicodedata.normalize("NFKC", name).replace(address.text, " ")
    rest = re.sub(r"\s+", " ", rest).strip(" -,，、")
    return rest or name.strip()
