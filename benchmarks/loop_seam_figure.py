"""Make ``docs/loop_seam.png``: a loop's seam before and after blending, on real footage.

The loop is the best one of at least two thirds of the clip, long enough for its seam to show.
Rows: the plain cut, the crossfade, the Poisson closure. Columns: the loop's last frame, its first
frame (which follows it when the loop plays), their difference (amplified 4x), and a time slice:
one column of pixels through two passes of the loop, so the wrap shows as a vertical break.

Footage: ``tree.avi`` of Debian's ``opencv-doc`` package when installed, else the waterfall clip of
``../shared/data``.

    python benchmarks/loop_seam_figure.py [-o docs/loop_seam.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import common
import numpy as np
from PIL import Image, ImageDraw

from patchvid.classic import loops
from patchvid.media import read_video

TREE = common.OPENCV_DATA / "tree.avi"


def footage() -> tuple[str, np.ndarray]:
    if TREE.exists():
        # the file declares 444 frames but holds 68; the last one does not decode cleanly
        return "tree.avi (opencv-doc)", read_video(TREE, end="67f").frames
    if common.have_clip("waterfall"):
        return "waterfall (shared/data)", common.load_clip("waterfall")
    raise SystemExit("no footage: install opencv-doc or provide ../shared/data")


def small(frame: np.ndarray, width: int) -> Image.Image:
    im = Image.fromarray(frame)
    return im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(common.ROOT / "docs" / "loop_seam.png"))
    parser.add_argument("--width", type=int, default=176, help="width of each panel")
    args = parser.parse_args()

    name, frames = footage()
    loop = loops.find_loop(loops.filter_diagonals(loops.frame_distances(frames)), min_length=2 * len(frames) // 3)
    typical = loops.typical_step(frames)
    raw = frames[loop.start : loop.end]
    faded, used = loops.crossfade_loop(frames, loop, 5)
    rows = [("plain cut", raw), (f"{used}-frame crossfade", faded), ("Poisson closure", loops.poisson_loop(raw))]

    w = args.width
    h = round(frames.shape[1] * w / frames.shape[2])
    column = frames.shape[2] // 2
    slice_w = min(4 * len(raw), 2 * w)  # a few pixels per frame, so the break is visible
    label_h, pad = 16, 4
    widths = [w, w, w, slice_w]
    canvas = Image.new("RGB", (sum(widths) + pad * 5, label_h + (h + label_h + pad) * len(rows) + pad), "white")
    draw = ImageDraw.Draw(canvas)
    x = pad
    for title, cw in zip(("last frame", "first frame", "|difference| x4", "one column, 2 passes"), widths, strict=True):
        draw.text((x, 2), title, fill="black")
        x += cw + pad
    for r, (title, clip) in enumerate(rows):
        y = label_h + r * (h + label_h + pad)
        ratio = loops.seam_ratio(clip, typical)
        draw.text((pad, y), f"{title}: seam ratio {ratio:.2f}", fill="black")
        y += label_h
        diff = np.clip(4 * np.abs(clip[-1].astype(np.int16) - clip[0]), 0, 255).astype(np.uint8)
        twice = np.concatenate([clip, clip])[:, :, column]  # (2L, H, 3): time runs left to right
        time_slice = Image.fromarray(np.ascontiguousarray(twice.transpose(1, 0, 2))).resize((slice_w, h))
        x = pad
        for panel in (small(clip[-1], w), small(clip[0], w), small(diff, w), time_slice):
            canvas.paste(panel, (x, y))
            x += panel.width + pad
        seam_x = x - pad - slice_w // 2  # where the second pass starts: the wrap
        draw.polygon([(seam_x - 4, y - 7), (seam_x + 4, y - 7), (seam_x, y - 1)], fill="red")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)  # a palette keeps it small
    print(f"{out}: {name}, loop {loop.start}..{loop.end - 1} ({loop.length} frames), "
          f"{out.stat().st_size / 1024:.0f} KB")
    for title, clip in rows:
        print(f"  {title}: seam ratio {loops.seam_ratio(clip, typical):.2f}")


if __name__ == "__main__":
    main()
