"""Make the README's editing pictures on real footage: one contact sheet per task, in ``docs/``.

* ``retarget.jpg``: the birds clip (13 frames at 192x108) made 1.5x wider, 0.6x as wide and twice as
  long (evenly spaced frames of the 26), then a SinGAN image (singan_3) made 1.5x wider.
* ``analogy.jpg``: lava (STRUCTURE) rendered with waterfall (APPEARANCE) patches, 13 frames at
  228x128: structure, its motion structure (grey, still = black), output, appearance. Completeness
  weighting is off (the default since this sheet: with alpha 0.5, still regions came out as flat
  smears, in twice the time).
* ``inpaint.jpg``: air balloons (13 frames at 256x144). Removal of a balloon (a tracked elliptic mask,
  ``fill="smooth"``, default settings), then a balloon-sized, dark blob painted into empty sky inside
  a mask (``fill="cue"``, whose default pyramid starts at 72 px and 13 frames: with generation's
  pyramid the cue vanishes).
  Each frame is the full frame beside a 2x zoom of the boxed region.
* ``collage.jpg``: singan_6 with a rectangle pasted elsewhere, then ``collage(original, edited)``
  with its default pyramid (half the short side, 94 px; at generation's 15 px the result is the
  original): original, rough edit, result. Row 1, a flag, works; row 2, the golfer (40% of the
  height), shows the limit: she comes through, but gravel and a bush from the pasted rectangle stay
  around her.

Every run uses seed 0 and gives the same pictures. Footage comes from ``../shared/data`` (relative to
the project root), never copied into the repository.

    python benchmarks/edit_sheets.py [--only retarget,analogy,inpaint,collage] [--out docs]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import common
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage as ndi

import patchvid
from patchvid.pictures import contact_sheet
from patchvid.tasks.analogy import analogy, collage
from patchvid.tasks.inpaint import inpaint
from patchvid.tasks.retarget import retarget
from patchvid.tasks.structure import motion_structure

SEED = 0
LABEL_H, GAP = 18, 4


# ------------------------------------------------------------------------------------ helpers


def side_by_side(*images: np.ndarray, gap: int = GAP) -> np.ndarray:
    """Images (or videos of one length) of one height, left to right with white gaps."""
    blank = np.full((*images[0].shape[:-2], gap, 3), 255, np.uint8)
    parts = [p for im in images for p in (im, blank)][:-1]
    return np.concatenate(parts, axis=-2)


def labelled_sheet(
    rows: list[tuple[str, np.ndarray]], columns: int, height: int, heights: dict[int, int] | None = None
) -> np.ndarray:
    """A contact sheet (``patchvid.pictures.contact_sheet``) with a line of text above each row;
    ``heights`` gives some rows (by index) another height."""
    heights = heights or {}
    strips = [contact_sheet([clip], columns=columns, height=heights.get(i, height)) for i, (_, clip) in enumerate(rows)]
    width = max(s.shape[1] for s in strips)
    canvas = Image.new("RGB", (width, sum(LABEL_H + s.shape[0] + GAP for s in strips) - GAP), "white")
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default(size=13)
    y = 0
    for (label, _), strip in zip(rows, strips, strict=True):
        draw.text((2, y + 2), label, fill="black", font=font)
        canvas.paste(Image.fromarray(strip), (0, y + LABEL_H))
        y += LABEL_H + strip.shape[0] + GAP
    return np.asarray(canvas)


def outline(frames: np.ndarray, mask: np.ndarray, darken: float = 0.5) -> np.ndarray:
    """``frames`` with the ``(T, H, W)`` mask darkened inside and outlined in white."""
    out = frames.copy()
    out[mask] = (out[mask] * darken).astype(np.uint8)
    edge = mask & ~ndi.binary_erosion(mask, structure=np.ones((1, 3, 3), bool))
    out[edge] = 255
    return out


def box(frames: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """``frames`` with a 1-pixel white rectangle around ``[y0:y1, x0:x1]``."""
    out = frames.copy()
    out[:, [y0, y1 - 1], x0:x1] = 255
    out[:, y0:y1, [x0, x1 - 1]] = 255
    return out


def with_zoom(frames: np.ndarray, window: tuple[int, int, int, int], boxed: bool) -> np.ndarray:
    """Each frame beside a 2x (nearest) zoom of ``window`` ``(y0, y1, x0, x1)``, which has half the
    frame's height, so both are as tall."""
    y0, y1, x0, x1 = window
    zoom = frames[:, y0:y1, x0:x1].repeat(2, axis=1).repeat(2, axis=2)
    return side_by_side(box(frames, *window) if boxed else frames, zoom)


def ellipses(shape: tuple[int, int, int], cx, cy, rx: float, ry: float) -> np.ndarray:
    """``(T, H, W) bool``: an ellipse per frame, centred at ``(cx[t], cy[t])``."""
    t, h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([((x - cx[i]) / rx) ** 2 + ((y - cy[i]) / ry) ** 2 <= 1 for i in range(t)])


def shape_of(clip: np.ndarray) -> str:
    return common.shape_text(clip.shape[:-1], "x")


# ------------------------------------------------------------------------------------- sheets


def retarget_sheet() -> tuple[np.ndarray, list[str]]:
    birds = common.load_clip("birds", 13, 192)  # 13x108x192
    wide = retarget(birds, scale=(1, 1, 1.5), seed=SEED)
    narrow = retarget(birds, scale=(1, 1, 0.6), seed=SEED)
    longer = retarget(birds, scale=(2, 1, 1), seed=SEED)
    photo = common.load_clip("singan_3")[0]
    photo_wide = retarget(photo, scale=(1, 1, 1.5), seed=SEED)
    rows = [
        (f"input: birds, {shape_of(birds)} (frames x height x width)", birds),
        (f"wider, x1.5: {shape_of(wide)}", wide),
        (f"narrower, x0.6: {shape_of(narrow)}", narrow),
        (f"longer, x2 frames: {shape_of(longer)}, 4 evenly spaced frames", longer),
        (
            f"image: singan_3, {shape_of(photo)} (height x width), and 1.5x wider: {shape_of(photo_wide)}",
            side_by_side(photo, photo_wide),
        ),
    ]
    return labelled_sheet(rows, columns=4, height=108, heights={4: 188}), [label for label, _ in rows]


def analogy_sheet() -> tuple[np.ndarray, list[str]]:
    lava = common.load_clip("lava", 13, 228)  # 13x128x228
    water = common.load_clip("waterfall", 13, 228)
    structure = motion_structure(lava)  # (T, H, W) in [0, 1], 4 bins
    grey = np.repeat((structure * 255).round().astype(np.uint8)[..., None], 3, axis=-1)
    # completeness weighting is off by default: with alpha 0.5 the still regions came out as flat
    # grey and white smears at this size
    out = analogy(lava, water, seed=SEED)
    rows = [
        (f"structure: lava, {shape_of(lava)}", lava),
        ("its motion structure (DIS optical flow speed, 4 levels; black = still, white = fastest)", grey),
        ("output: lava's layout and motion made of waterfall patches", out),
        ("appearance: waterfall", water),
    ]
    return labelled_sheet(rows, columns=5, height=128), [label for label, _ in rows]


def inpaint_sheet() -> tuple[np.ndarray, list[str]]:
    clip = common.load_clip("airballoons", 13)  # 13x144x256
    t = np.arange(len(clip))
    # (a) removal: a balloon rising about 2 px a frame, tracked by hand at frames 0, 6 and 12
    cx = np.interp(t, [0, 6, 12], [140, 140, 141])
    cy = np.interp(t, [0, 6, 12], [87, 77, 64])
    hole = ellipses(clip.shape[:3], cx, cy, 9, 11)
    removed = inpaint(clip, hole, fill="smooth", seed=SEED)
    # (b) cue: empty sky, a blob of a small balloon's size (10x12 px) and a dark balloon's colour,
    # rising like the balloons, inside a larger mask. The cue enters the synthesis only at the
    # coarsest level: with generation's pyramid (15 px, 3 frames) it is under a pixel there and
    # smeared over 4 frames, and the sky wins; the cue default (keep_layout) starts at half size
    # with every frame, which keeps it.
    cy = 74 - 1.9 * t
    cx = np.full(len(t), 205.0)
    mask = ellipses(clip.shape[:3], cx, cy, 12, 15)
    painted = clip.copy()
    painted[ellipses(clip.shape[:3], cx, cy - 1, 5, 6)] = (60, 30, 25)
    cued = inpaint(painted, mask, fill="cue", seed=SEED)
    a, b = (40, 112, 100, 180), (24, 96, 165, 245)  # zoom windows, 72x80
    rows = [
        (
            "removal: input, the mask darkened and outlined (right: 2x zoom of the box)",
            with_zoom(outline(clip, hole), a, True),
        ),
        ('removal: output, fill="smooth"', with_zoom(removed, a, False)),
        (
            "cue: a dark balloon-sized blob painted in the sky, the mask outlined",
            with_zoom(outline(painted, mask, 1.0), b, True),
        ),
        ('cue: output, fill="cue" (coarsest level 72 px, 13 frames)', with_zoom(cued, b, False)),
    ]
    return labelled_sheet(rows, columns=3, height=144), [label for label, _ in rows]


def paste(image: np.ndarray, source: tuple[int, int, int, int], to: tuple[int, int]) -> np.ndarray:
    """A copy of ``image`` with the rectangle ``source`` ``(y0, y1, x0, x1)`` pasted at ``to`` ``(y, x)``."""
    (y0, y1, x0, x1), (y, x) = source, to
    edited = image.copy()
    edited[y : y + y1 - y0, x : x + x1 - x0] = image[y0:y1, x0:x1]
    return edited


def collage_sheet() -> tuple[np.ndarray, list[str]]:
    photo = common.load_clip("singan_6")[0]  # 188x250
    rows = []
    for what, source, to in (
        ("a flag", (95, 148, 115, 140), (112, 205)),
        ("the golfer", (44, 122, 72, 100), (80, 165)),
    ):
        edited = paste(photo, source, to)
        # the edit enters the synthesis only at the coarsest level: at generation's 15 px a flag is
        # under a pixel there and the result is the original again; collage's default (keep_layout:
        # half the short side, 94 px) keeps it, as did 80 px; 64 px did not
        result = collage(photo, edited, seed=SEED)
        rows.append(
            (
                f"{what} duplicated: original | rough edit (a pasted rectangle) | collage result",
                side_by_side(photo, edited, result),
            )
        )
    return labelled_sheet(rows, columns=1, height=188), [label for label, _ in rows]


SHEETS: dict[str, Callable[[], tuple[np.ndarray, list[str]]]] = {
    "retarget": retarget_sheet,
    "analogy": analogy_sheet,
    "inpaint": inpaint_sheet,
    "collage": collage_sheet,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SHEETS), help="comma-separated sheets to make (default: all)")
    parser.add_argument("--out", default=str(common.ROOT / "docs"), help="folder for the PNGs (default: docs/)")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n]
    unknown = [n for n in names if n not in SHEETS]
    if unknown:
        raise SystemExit(f"unknown sheet(s) {', '.join(unknown)}; choose from {', '.join(SHEETS)}")
    if common.missing_footage():
        raise SystemExit(common.missing_footage())
    total = common.Stopwatch()
    for name in names:
        watch = common.Stopwatch()
        sheet, rows = SHEETS[name]()
        path = Path(args.out) / f"{name}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        patchvid.write_video(path, sheet)
        print(f"{path} ({sheet.shape[1]}x{sheet.shape[0]}): {watch.seconds:.1f} s", flush=True)
        for i, row in enumerate(rows, 1):
            print(f"  row {i}: {row}")
    print(f"all: {total.seconds:.1f} s")


if __name__ == "__main__":
    main()
