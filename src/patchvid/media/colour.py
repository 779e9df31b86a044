"""Colour descriptions: which matrix, range, primaries and transfer a clip's pixels are coded with.

A decoder needs the matrix and range to turn YUV into the RGB patchvid works in, and a player needs
the tags to turn the output back. Untagged video is read the way players read it (BT.709 for HD and
larger, BT.601 below), and every output is tagged, so that no player has to guess.

Names are FFmpeg's (``bt709``, ``smpte170m``, ``bt2020nc``, ``tv``/``pc``, ``smpte2084``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# FFmpeg's enum values (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic, AVColorRange):
# PyAV reports them as these integers and takes them back the same way.
MATRICES = {1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 9: "bt2020nc", 10: "bt2020c"}
PRIMARIES = {1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
             11: "smpte431", 12: "smpte432"}
TRANSFERS = {1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear",
             13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12", 16: "smpte2084", 18: "arib-std-b67"}
RANGES = {1: "tv", 2: "pc"}
HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})

# swscale's coefficient tables by matrix (SWS_CS_*): the same numbers except where noted
_SWS_MATRIX = {"bt709": 1, "fcc": 4, "bt470bg": 5, "smpte170m": 5, "smpte240m": 7, "bt2020nc": 9, "bt2020c": 9}


def _code(table: dict[int, str], name: str | None) -> int:
    """FFmpeg's integer for a name (2, "unspecified", for ``None``)."""
    if name is None:
        return 2
    return next(k for k, v in table.items() if v == name)


@dataclass(frozen=True)
class Colour:
    """How a clip's pixels are coded.

    Attributes:
        matrix: YUV matrix (``bt709``, ``smpte170m`` for BT.601, ``bt2020nc``, ...).
        range: ``tv`` (limited, 16-235) or ``pc`` (full, 0-255).
        primaries: colour primaries, or ``None`` when not known.
        transfer: transfer characteristic (``bt709``, ``smpte2084`` for PQ, ``arib-std-b67`` for HLG, ...).
        bits: bits per component of the source (8, 10, 12).
        tagged: the source said so (``False``: patchvid assumed it, as players do).

    Example:
        >>> Colour.default_for(1080, 1920).matrix
        'bt709'
        >>> Colour.default_for(360, 640).matrix
        'smpte170m'
    """

    matrix: str = "bt709"
    range: str = "tv"
    primaries: str | None = "bt709"
    transfer: str | None = "bt709"
    bits: int = 8
    tagged: bool = True

    @staticmethod
    def default_for(height: int, width: int) -> Colour:
        """What a player assumes for untagged video of this size: BT.709 for HD and larger
        (720 lines or 1280 columns and up), BT.601 (SMPTE 170M) below."""
        if height >= 720 or width >= 1280:
            return Colour("bt709", "tv", "bt709", "bt709", 8, tagged=False)
        return Colour("smpte170m", "tv", "smpte170m", "smpte170m", 8, tagged=False)

    @staticmethod
    def of_frame(frame, coded_height: int, coded_width: int) -> Colour:
        """A decoded PyAV frame's description, each missing tag filled as a player would."""
        fallback = Colour.default_for(coded_height, coded_width)
        fmt = frame.format
        full = fmt.name.startswith("yuvj") or fmt.name.startswith(("gbr", "rgb", "bgr"))
        matrix = MATRICES.get(int(frame.colorspace))
        colour_range = RANGES.get(int(frame.color_range)) or ("pc" if full else "tv")
        bits = max(c.bits for c in fmt.components) if fmt.components else 8
        return Colour(
            matrix or fallback.matrix,
            colour_range,
            PRIMARIES.get(int(frame.color_primaries)) or (fallback.primaries if matrix is None else None),
            TRANSFERS.get(int(frame.color_trc)) or (fallback.transfer if matrix is None else None),
            bits,
            tagged=matrix is not None,
        )

    @property
    def hdr(self) -> bool:
        """PQ or HLG: a high-dynamic-range signal."""
        return self.transfer in HDR_TRANSFERS

    def as_output(self, height: int, width: int) -> Colour:
        """The description to write: this one when the source said it; else the player default
        for the output's size (a tagged output needs no guess either way)."""
        if self.tagged:
            return self
        return replace(Colour.default_for(height, width), bits=self.bits, tagged=True)

    # ------------------------------------------------------------------------- PyAV arguments

    def sws_matrix(self) -> int:
        """swscale's coefficient table for the matrix."""
        return _SWS_MATRIX.get(self.matrix, 1)

    def sws_range(self) -> int:
        return 2 if self.range == "pc" else 1

    def codes(self) -> dict[str, int]:
        """The codec context's colour fields as FFmpeg integers."""
        return {
            "colorspace": _code(MATRICES, self.matrix),
            "color_range": _code(RANGES, self.range),
            "color_primaries": _code(PRIMARIES, self.primaries),
            "color_trc": _code(TRANSFERS, self.transfer),
        }

    def describe(self) -> str:
        """``bt709/tv`` plus primaries and transfer when they differ from the matrix."""
        extra = [v for v in (self.primaries, self.transfer) if v and v != self.matrix]
        return "/".join([self.matrix, self.range, *extra]) + ("" if self.bits == 8 else f", {self.bits}-bit")
