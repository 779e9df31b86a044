"""``patchvid --help`` and ``--version`` answer without importing the heavy libraries, and every
command writes one kind of record."""

import json
import subprocess
import sys

import numpy as np

from patchvid.cli import main
from patchvid.media import write_video

from ..conftest import make_clip, orbit_clip, save_mask

HEAVY = ("torch", "numba", "cv2", "av", "scipy", "PIL")

PROBE = """
import contextlib, io, sys
from patchvid.cli import build_parser
parser = build_parser()
for command in [None, "generate", "retarget", "analogy", "collage", "inpaint", "loop", "texture",
                "cinemagraph", "blend", "evaluate"]:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            parser.parse_args(["--help"] if command is None else [command, "--help"])
        except SystemExit:
            pass
print(",".join(m for m in %r if m in sys.modules))
"""


def test_help_of_every_command_imports_no_heavy_library():
    result = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported at start-up: {result.stdout.strip()}"


def test_version_through_the_entry_point():
    result = subprocess.run([sys.executable, "-m", "patchvid", "--version"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.startswith("patchvid ")


def test_every_command_writes_the_same_record_schema(tmp_path):
    write_video(tmp_path / "clip", make_clip(4, 20, 24))
    write_video(tmp_path / "orbit", orbit_clip(24, 6))
    mask = np.zeros((20, 24), bool)
    mask[6:12, 8:16] = True
    save_mask(tmp_path / "mask.png", mask)
    save_mask(tmp_path / "orbit_mask.png", np.pad(np.ones((12, 16), bool), ((6, 6), (8, 8))))
    clip, orbit = str(tmp_path / "clip"), str(tmp_path / "orbit")
    fast = ["-q", "--iterations", "1"]
    commands = {
        "generate": ["generate", clip, *fast],
        "retarget": ["retarget", clip, "--width", "30", *fast],
        "analogy": ["analogy", clip, clip, *fast],
        "collage": ["collage", clip, clip, *fast],
        "inpaint": ["inpaint", clip, "--mask", str(tmp_path / "mask.png"), *fast],
        "loop": ["loop", orbit, "-q"],
        "texture": ["texture", orbit, "--duration", "30f", "-q"],
        "cinemagraph": ["cinemagraph", orbit, "--mask", str(tmp_path / "orbit_mask.png"), "-q"],
        "blend": ["blend", clip, orbit, "--mask", str(tmp_path / "mask.png"), "-q"],
    }
    keys = None
    for name, argv in commands.items():
        out = tmp_path / f"{name}_out"
        assert main([*argv, "-o", str(out)]) == 0, name
        record = json.loads((tmp_path / f"{name}_out.json").read_text())
        shared = {k for k in record if k in ("patchvid", "command", "created", "environment", "inputs", "options",
                                             "settings", "plan", "samples")}
        keys = keys or shared
        assert shared == keys == {"patchvid", "command", "created", "environment", "inputs", "options", "settings",
                                  "plan", "samples"}, name
        assert record["command"].startswith(f"patchvid {name}")
        assert [s["output"] for s in record["samples"]] == [str(out)], name
        assert all("frames_height_width" in i for i in record["inputs"].values()), name
