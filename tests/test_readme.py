"""Every ```python block of README.md runs as written.

The blocks are run in order in one namespace, as a reader pastes them into one session, in a fresh
folder holding the ``clip.mp4`` they open. The editing section's one-liners name the reader's own
arrays (``frames``, ``lava``, ...): those names are given small generated arrays beforehand, and only
those (:data:`PLACEHOLDERS`); any other name a block uses without defining fails the test.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from .conftest import band_clip, disc_image, make_clip, square_clip

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks() -> list[tuple[int, str]]:
    """``(line of the block's first code line, code)`` for every ```python block of README.md.

    Example:
        >>> python_blocks()[0][1]  # doctest: +SKIP
        'from patchvid import analogy, collage, inpaint, retarget\\n'
    """
    text = README.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in FENCE.finditer(text)]


def placeholders() -> dict[str, np.ndarray]:
    """The arrays the editing one-liners stand for, small enough to run in seconds."""
    frames = make_clip(6, 32, 48)
    mask = np.zeros((32, 48), bool)
    mask[10:20, 18:30] = True
    painted = frames.copy()
    painted[:, 12:18, 22:28] = (20, 20, 20)  # a dark cue inside the mask
    photo = disc_image(48, 64)
    edited = photo.copy()
    edited[4:20, 40:60] = photo[16:32, 30:50]  # a rectangle pasted elsewhere
    return {"frames": frames, "mask": mask, "painted": painted, "lava": square_clip()[0], "waterfall": band_clip(),
            "photo": photo, "edited": edited}


PLACEHOLDERS = tuple(placeholders())


def write_clip(folder: Path) -> None:
    """``clip.mp4`` for the API section: 40 frames at 25 fps, so that 1 s in leaves 15."""
    from patchvid.media import write_video

    write_video(folder / "clip.mp4", make_clip(40, 36, 64), Fraction(25))


def test_readme_has_python_blocks_that_compile():
    blocks = python_blocks()
    assert len(blocks) >= 7, "README.md lost its ```python blocks (or the fence pattern here no longer finds them)"
    for line, code in blocks:
        compile("\n" * (line - 1) + code, str(README), "exec")  # a SyntaxError names the README line


def test_readme_states_the_one_rule_for_times():
    """The API and the command line read times alike: a number is seconds, ``"12f"`` a frame. The
    README's API example still documents the old rule (an int a frame index)."""
    text = README.read_text(encoding="utf-8")
    stale = [i for i, line in enumerate(text.splitlines(), 1) if "int = frame index" in line]
    assert not stale, (f"README.md line {stale[0]} says an int is a frame index; a number is seconds now "
                       '(end=13 reads 13 s): write end="13f" for 13 frames')


@pytest.mark.slow
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_clip(tmp_path)
    namespace: dict = {"__name__": "readme", **placeholders()}
    for line, code in python_blocks():
        try:
            exec(compile("\n" * (line - 1) + code, str(README), "exec"), namespace)
        except Exception as e:
            first = code.strip().splitlines()[0]
            pytest.fail(f"README.md block at line {line} ({first!r}) failed: {type(e).__name__}: {e}")
    # what the blocks say they make
    clip, sample = namespace["clip"], namespace["sample"]
    assert clip.fps == Fraction(25) and clip.frames.shape == (15, 36, 64, 3)  # start=1.0 s: frames 25.. of 40
    assert sample.shape == clip.frames.shape and sample.dtype == np.uint8
    assert namespace["wide"].shape[:3] == (15, 36, 96)
    assert (tmp_path / "sample.mp4").is_file()
    samples = namespace["samples"]
    assert len(samples) == 4 and np.array_equal(samples[1], sample)  # "= patchvid.generate(..., seed=s)"
    frames, mask = namespace["frames"], namespace["mask"]
    for name in ("removed", "cued"):
        assert namespace[name].shape == frames.shape
        assert np.array_equal(namespace[name][:, ~mask], namespace["painted" if name == "cued" else "frames"][:, ~mask])
    assert namespace["out"].shape == namespace["lava"].shape
    assert namespace["result"].shape == namespace["edited"].shape
