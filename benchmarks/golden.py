"""Output hashes of a fixed set of commands on generated footage: proof that a refactoring kept behaviour.

Every sub-command runs on small generated clips and images (videos and images, two seeds, exact and
PatchMatch search, every output kind), in process through ``patchvid.cli.main``. The script records
the SHA-256 of every media file written (records are left out: they hold times and dates) and of
what each command prints on stdout (loops' seam ratios, evaluate's score table).

    python benchmarks/golden.py --write before.json          # on the old code
    python benchmarks/golden.py --compare before.json        # on the new: lists every difference

The footage is written into a fixed folder (``--work``, default ``/tmp/patchvid-golden``), so that
the paths a command prints (relative to it) are the same in both runs.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from patchvid.cli import main
from patchvid.media import write_video


def moving_discs(frames: int, height: int, width: int, seed: int) -> np.ndarray:
    """``(T, H, W, 3) uint8``: a textured gradient with two discs crossing it at different speeds."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width, y / height, 0.5 + 0.25 * np.sin(x / 3) * np.cos(y / 4)], -1) * 200 + 20
    texture = rng.normal(0, 8, (height, width, 3))
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        img = base + texture
        for cx, cy, r, colour in (
            (5 + 3 * t, height / 3, 5, (230, 40, 40)),
            (width - 8 - t, 2 * height / 3, 4, (30, 30, 220)),
        ):
            img[(x - cx) ** 2 + (y - cy) ** 2 <= r * r] = colour
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def orbit(frames: int = 48, size: int = 40) -> np.ndarray:
    """A disc on a circular path with period 16 frames over texture: a clip with good loops."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size].astype(np.float32)
    texture = rng.normal(120, 20, (size, size, 3))
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        a = 2 * np.pi * t / 16
        cx, cy = size / 2 + 10 * np.cos(a), size / 2 + 10 * np.sin(a)
        img = texture.copy()
        img[(x - cx) ** 2 + (y - cy) ** 2 <= 25] = (240, 200, 30)
        out[t] = np.clip(img + 3 * np.sin(t / 2.5), 0, 255).astype(np.uint8)
    return out


def make_footage(work: Path) -> None:
    clip = moving_discs(8, 36, 64, 0)
    write_video(work / "clip", clip)  # PNG frames: exact
    write_video(work / "clip.mp4", clip, 25)
    write_video(work / "structure", moving_discs(8, 36, 48, 1)[:, :, ::-1])
    write_video(work / "image.png", clip[0, :, :56])
    edited = clip[0, :, :56].copy()
    edited[4:16, 30:44] = clip[0, 4:16, 4:18]
    write_video(work / "edited.png", edited)
    mask = np.zeros((36, 64), np.uint8)
    mask[10:22, 20:34] = 255
    Image.fromarray(mask).save(work / "mask.png")
    Image.fromarray(mask[:, :56]).save(work / "image_mask.png")
    write_video(work / "orbit", orbit())
    region = np.zeros((40, 40), np.uint8)
    region[4:36, 4:36] = 255
    Image.fromarray(region).save(work / "region.png")
    small = np.zeros((12, 16), np.uint8)
    small[2:10, 3:13] = 255
    Image.fromarray(small).save(work / "small_mask.png")
    write_video(work / "logo.png", moving_discs(1, 12, 16, 3)[0])


COMMANDS: dict[str, list[str]] = {
    "generate video, 2 seeds": ["generate", "clip", "-o", "g_auto", "--samples", "2", "--seed", "0"],
    "generate exact": ["generate", "clip", "-o", "g_exact", "--search", "exact", "--seed", "3"],
    "generate patchmatch": ["generate", "clip", "-o", "g_pm", "--search", "patchmatch", "--seed", "5"],
    "generate mp4 in and out": ["generate", "clip.mp4", "-o", "g.mp4", "--seed", "1", "--end", "6f"],
    "generate gif": ["generate", "clip", "-o", "g.gif", "--seed", "2", "--max-size", "48"],
    "generate image, 2 seeds": ["generate", "image.png", "-o", "g_img.png", "--samples", "2"],
    "generate scaled, mean vote, alpha": [
        "generate", "clip", "-o", "g_scaled", "--scale", "0.5,1,1.5", "--vote", "mean", "--alpha", "0.5",
        "--patch", "3x5x5", "--factor", "0.8", "--iterations", "3",
    ],
    "retarget width, 2 seeds": ["retarget", "clip", "-o", "r_w0", "--width", "80"],
    "retarget width, seed 1": ["retarget", "clip", "-o", "r_w1", "--width", "80", "--seed", "1"],
    "retarget longer, patchmatch": ["retarget", "clip", "-o", "r_t", "--scale", "1.5,1,1", "--search", "patchmatch"],
    "retarget image exact": ["retarget", "image.png", "-o", "r_img.png", "--scale", "1,1,1.5", "--search", "exact"],
    "analogy motion": ["analogy", "structure", "clip", "-o", "a_motion"],
    "analogy labels": ["analogy", "structure", "clip", "-o", "a_labels", "--mode", "labels", "--seed", "2"],
    "analogy colours images": ["analogy", "edited.png", "image.png", "-o", "a_col.png", "--mode", "colours"],
    "collage image": ["collage", "image.png", "edited.png", "-o", "c.png", "--seed", "1"],
    "collage video": ["collage", "clip", "clip", "-o", "c_video", "--search", "patchmatch"],
    "inpaint cue": ["inpaint", "clip", "--mask", "mask.png", "-o", "i_cue"],
    "inpaint smooth exact": ["inpaint", "clip", "--mask", "mask.png", "-o", "i_smooth", "--fill", "smooth",
                             "--search", "exact", "--seed", "4"],
    "inpaint image noise": ["inpaint", "image.png", "--mask", "image_mask.png", "-o", "i_img.png", "--noise", "1",
                            "--max-size", "64"],
    "loop crossfade": ["loop", "orbit", "-o", "l_cf", "--min-length", "8f"],
    "loop poisson": ["loop", "orbit", "-o", "l_poisson", "--blend", "poisson", "--min-length", "8f"],
    "texture": ["texture", "orbit", "-o", "t", "--duration", "40f", "--seed", "2"],
    "cinemagraph": ["cinemagraph", "orbit", "--mask", "region.png", "-o", "cg", "--min-length", "8f"],
    "blend": ["blend", "logo.png", "orbit", "--mask", "small_mask.png", "-o", "b", "--offset", "0,10,12"],
    "evaluate samples": ["evaluate", "clip", "g_auto_000", "g_auto_001",
                         "--measures", "coherence,completeness,swd,nnfdiv,diversity"],
    "evaluate generate": ["evaluate", "--generate", "image.png", "--samples", "2", "--seed", "9",
                          "--measures", "coherence,completeness,diversity"],
}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def run_all(work: Path) -> dict[str, dict[str, str]]:
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    make_footage(work)
    before = set(work.rglob("*"))
    results: dict[str, dict[str, str]] = {}
    for name, argv in COMMANDS.items():
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.chdir(work):
            code = main([*argv, "-q"])
        made = sorted(p for p in set(work.rglob("*")) - before if p.is_file() and p.suffix != ".json")
        before = set(work.rglob("*"))
        entry = {str(p.relative_to(work)): digest(p) for p in made}
        entry["exit"] = str(code)
        entry["stdout"] = hashlib.sha256(out.getvalue().encode()).hexdigest()[:16]
        results[name] = entry
        print(f"{name}: exit {code}, {len(made)} files", file=sys.stderr)
    return results


def compare(before: dict, after: dict) -> int:
    differences = 0
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, {}), after.get(name, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                differences += 1
                print(f"DIFFERENT  {name}: {key}: {a.get(key)} -> {b.get(key)}")
    same = sum(len(v) for v in after.values()) - differences
    print(f"{differences} differences, {same} hashes the same")
    return 1 if differences else 0


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/patchvid-golden"))
    parser.add_argument("--write", type=Path, help="write the hashes to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with hashes written earlier")
    args = parser.parse_args(argv)
    results = run_all(args.work)
    if args.write:
        args.write.write_text(json.dumps(results, indent=1) + "\n")
    if args.compare:
        return compare(json.loads(args.compare.read_text()), results)
    return 0


if __name__ == "__main__":
    sys.exit(main_())
