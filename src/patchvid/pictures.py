"""Pictures for people: contact sheets that show an input and its results side by side."""

from __future__ import annotations

import numpy as np

from .synthesis.resize import resize_frames


def contact_sheet(
    rows: list[np.ndarray], columns: int = 6, height: int = 120, gap: int = 4
) -> np.ndarray:
    """Lay clips out as rows of evenly spaced frames.

    Args:
        rows: clips, each ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 (the first is usually the input);
            they may differ in length and size.
        columns: frames shown per row, spread evenly over each clip (fewer if a clip is shorter).
        height: height in pixels of every shown frame (widths keep each clip's aspect).
        gap: white space between frames and rows.

    Returns:
        ``(H, W, 3) uint8`` image.
    """
    strips = []
    for clip in rows:
        clip = clip[None] if clip.ndim == 3 else clip
        t, h, w, _ = clip.shape
        picks = np.unique(np.linspace(0, t - 1, min(columns, t)).round().astype(int))
        width = max(1, round(w * height / h))
        frames = resize_frames(clip[picks], height, width)
        strip = np.full((height, len(picks) * (width + gap) - gap, 3), 255, np.uint8)
        for i, frame in enumerate(frames):
            strip[:, i * (width + gap) : i * (width + gap) + width] = frame
        strips.append(strip)
    total_w = max(s.shape[1] for s in strips)
    sheet = np.full((len(strips) * (height + gap) - gap, total_w, 3), 255, np.uint8)
    for i, strip in enumerate(strips):
        sheet[i * (height + gap) : i * (height + gap) + height, : strip.shape[1]] = strip
    return sheet
