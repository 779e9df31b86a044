"""An output's sound, chosen by how its frames relate to the input's timeline.

* ``"same"``: the output's frames are the input's frames, in order (inpainting, collage, a spatial
  retarget, a blend's target): the sound stream is copied as it is (no re-encode), cut to the range.
* a sequence of source frames: output frame ``i`` shows (mostly) input frame ``timeline[i]``
  (loops, textures, generated video, temporal retargeting): the sound is rebuilt from those input
  times, crossfaded at every jump (and at the wrap of a loop), and re-encoded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .audio import AudioCopy, AudioEncode, follow_frames, largest_jump, read_audio
from .decoding import Source

CROSSFADE = 0.02  # seconds at each join


@dataclass
class Soundtrack:
    """What to mux, and what to tell the user and the record about it."""

    track: object | None
    message: str
    record: dict = field(default_factory=dict)


class _CopyOrEncode:
    """A packet copy where the container takes the codec; else the same samples, encoded."""

    def __init__(self, source: Source):
        self.source = source
        self.copy = AudioCopy(source.path, source.start, source.start + source.duration)
        self.chosen = None
        self.copied = False

    def add_to(self, container) -> bool:
        if self.copy.add_to(container):
            self.chosen, self.copied = self.copy, True
            return True
        self.copy.close()
        audio = read_audio(self.source.path, self.source.start, self.source.start + self.source.duration)
        if audio is None:
            return False
        self.chosen = AudioEncode(audio)
        return self.chosen.add_to(container)

    def mux_until(self, container, seconds: float) -> None:
        self.chosen.mux_until(container, seconds)

    def finish(self, container) -> None:
        self.chosen.finish(container)


def soundtrack(
    source: Source | None,
    timeline: str | Sequence[int] | None,
    source_fps: Fraction | None,
    output_fps: Fraction,
    *,
    loop: bool = False,
) -> Soundtrack:
    """The sound for an output made from ``source``'s frames.

    Args:
        source: where the input's frames came from (``None``: an image or frames: no sound).
        timeline: ``"same"``, or ``(T_out,)`` input frame indices (relative to the frames read), or
            ``None`` for an output with no relation to the input's time.
        source_fps, output_fps: the input's and the output's frame rates.
        loop: the output is played in a loop: its end joins its start seamlessly.
    """
    if source is None or not source.audio:
        return Soundtrack(None, "")
    if timeline is None:
        return Soundtrack(None, "sound: left out (this output has no place on the input's timeline)",
                          {"kept": False})
    span = f"{source.start:.3f}-{source.start + source.duration:.3f} s"
    if isinstance(timeline, str):
        seconds = [source.start, source.start + source.duration]
        return Soundtrack(_CopyOrEncode(source), f"sound: copied from the input ({span})",
                          {"kept": True, "how": "copied", "input_seconds": seconds})
    audio = read_audio(source.path, source.start, source.start + source.duration)
    if audio is None:
        return Soundtrack(None, "sound: the input's sound track has no decodable samples: left out",
                          {"kept": False})
    order = np.asarray(timeline, dtype=np.int64)
    rebuilt = follow_frames(audio, order, source_fps or output_fps, output_fps, loop=loop, crossfade=CROSSFADE)
    jumps = np.flatnonzero(np.diff(order) != 1) + 1
    joins = [round(int(j) / float(output_fps) * rebuilt.rate) for j in jumps] + ([len(rebuilt.samples)] if loop else [])
    at_joins = largest_jump(rebuilt.samples, joins) if joins else 0.0
    if loop and len(rebuilt.samples) > 1:  # the wrap: the last sample runs into the first
        at_joins = max(at_joins, float(np.abs(rebuilt.samples[0] - rebuilt.samples[-1]).max()))
    own = largest_jump(audio.samples)
    how = "looped" if loop else "rebuilt"
    message = (f"sound: {how} from the input times each frame came from ({len(jumps)} joins"
               f"{' and the wrap' if loop else ''}, {1000 * CROSSFADE:.0f} ms crossfades); largest step at the "
               f"joins {at_joins:.3f} against the input's own {own:.3f}")
    record = {"kept": True, "how": how, "input_seconds": [source.start, source.start + source.duration],
              "joins": len(jumps) + int(loop), "crossfade_seconds": CROSSFADE,
              "largest_step_at_joins": round(at_joins, 5), "largest_step_in_input": round(own, 5)}
    return Soundtrack(AudioEncode(rebuilt), message, record)
