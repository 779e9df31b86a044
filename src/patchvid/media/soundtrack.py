"""An output's sound, chosen by how its frames relate to the input's timeline.

* ``"same"``: the output's frames are the input's frames, in order (inpainting, collage, a spatial
  retarget, a blend's target): the sound stream is copied as it is (no re-encode), cut to the range.
* a sequence of source frames: output frame ``i`` shows (mostly) input frame ``timeline[i]``
  (loops, textures, generated video, temporal retargeting): the sound is rebuilt from those input
  times, crossfaded at every jump (and at the wrap of a loop), and re-encoded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from .audio import Audio, AudioCopy, AudioEncode, _positions, follow_frames, largest_jump, read_audio
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


class StreamedSound(AudioEncode):
    """Sound rebuilt from source frames that arrive block by block (an output written as it is made):
    :meth:`add` the source frames of each block before writing its pictures.

    Each block's sound is :func:`~patchvid.media.audio.follow_frames` over its frames and two before
    them, so a jump at a block's start is crossfaded as in one rebuild of the whole; the last frame
    stays pending until the next block (or :meth:`finish`) says what follows it. Only the samples not
    yet encoded are held, so memory does not grow with the length.
    """

    def __init__(self, audio: Audio, source_fps: Fraction, output_fps: Fraction):
        super().__init__(Audio(np.zeros((0, audio.channels), np.float32), audio.rate, audio.layout, audio.codec))
        self.source = audio
        self.source_fps, self.output_fps = Fraction(source_fps), Fraction(output_fps)
        self.recent: list[int] = []  # the last source frames, for the next block's context
        self.frames = 0  # source frames added
        self.final = 0  # output frames whose sound is in the buffer
        self.base = 0  # sample index of the buffer's first sample
        self.jumps = 0

    def add(self, sources: Sequence[int], last: bool = False) -> None:
        """The source frames of the next output frames; ``last``: no more will come."""
        order = self.recent + [int(i) for i in sources]
        if len(order) > len(self.recent):
            self.jumps += int(np.count_nonzero(np.diff(order[max(0, len(self.recent) - 1):]) != 1))
        self.frames += len(sources)
        first = self.frames - len(order)  # output frame of order[0]
        stop = self.frames if last else self.frames - 1
        if stop > self.final:
            rebuilt = follow_frames(self.source, order, self.source_fps, self.output_fps, crossfade=CROSSFADE).samples
            at = _positions(np.array([first, self.final, stop]), self.source.rate, self.output_fps)
            lo, hi = int(at[1] - at[0]), int(at[2] - at[0])
            piece = rebuilt[lo:hi]
            if len(piece) < hi - lo:  # rounding relative to the block's first frame: a sample short
                piece = np.concatenate((piece, np.repeat(rebuilt[-1:], hi - lo - len(piece), axis=0)))
            kept = self.audio.samples[self._fed - self.base:]
            self.base = self._fed
            self.audio = Audio(np.concatenate((kept, piece)), self.audio.rate, self.audio.layout, self.audio.codec)
            self.final = stop
        self.recent = order[-3:]

    def mux_until(self, container, seconds: float) -> None:
        if self._stream is None:
            return
        end = self.base + self.audio.samples.shape[0]  # the buffer holds samples base .. end
        stop = end if math.isinf(seconds) else min(end, round(Fraction(seconds) * self.audio.rate))
        if stop > self._fed:
            self._feed(container, self.audio.samples[self._fed - self.base : stop - self.base])

    def finish(self, container) -> None:
        if self.final < self.frames:
            self.add([], last=True)
        super().finish(container)


def streamed_soundtrack(source: Source | None, source_fps: Fraction | None, output_fps: Fraction) -> Soundtrack:
    """The sound of an output written block by block, rebuilt from each block's source frames
    (:class:`StreamedSound`)."""
    if source is None or not source.audio:
        return Soundtrack(None, "")
    audio = read_audio(source.path, source.start, source.start + source.duration)
    if audio is None:
        return Soundtrack(None, "sound: the input's sound track has no decodable samples: left out", {"kept": False})
    track = StreamedSound(audio, source_fps or output_fps, output_fps)
    return Soundtrack(track, f"sound: rebuilt from the input times each frame came from, block by block "
                      f"({1000 * CROSSFADE:.0f} ms crossfades at the joins)",
                      {"kept": True, "how": "rebuilt", "input_seconds": [source.start, source.start + source.duration],
                       "crossfade_seconds": CROSSFADE})
