"""The page in a real headless Chromium (the system's, driven by Playwright; never downloaded):
generate with 2 samples, inpaint with a painted mask, cancel, a corrupt upload. Screenshots of each
view go under tmp_path, and to docs/ when PATCHVID_UI_SCREENSHOTS=docs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from fractions import Fraction
from pathlib import Path

import pytest

import patchvid

from ..conftest import make_clip

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
pytest.importorskip("gradio", reason="gradio is not installed (pip install 'patchvid[ui]')")
CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")) if p
                 and Path(p).exists()), None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="no system Chromium (apt-get install chromium)")]
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``patchvid ui`` on a free port, its temporary folders under a folder of this test's."""
    tmp = tmp_path_factory.mktemp("ui")
    (tmp / "tmp").mkdir()
    port = _free_port()
    env = {**os.environ, "TMPDIR": str(tmp / "tmp"), "GRADIO_TEMP_DIR": str(tmp / "gradio")}
    process = subprocess.Popen([sys.executable, "-m", "patchvid", "ui", "--port", str(port)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        lines = [process.stdout.readline() for _ in range(1)]
        while lines[-1] and not lines[-1].startswith("patchvid ui:"):
            lines.append(process.stdout.readline())
        assert lines[-1].strip() == f"patchvid ui: {url}", "".join(lines)
        # keep reading what the server says, so that a full pipe can never stall it
        threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield url, tmp
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert not list((tmp / "tmp").glob("patchvid-ui-*")), "the run folders were not removed"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.external = []  # requests leaving this machine: there must be none
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "data:", "blob:"))
            else page.external.append(r.url))
    page.goto(server[0])
    page.wait_for_selector("#gen-input")
    yield page
    assert page.external == []
    context.close()


def _shot(page, tmp_path, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(tmp_path / f"ui_{name}.png"), full_page=True)
    if os.environ.get("PATCHVID_UI_SCREENSHOTS") == "docs" and name in ("generate", "inpaint"):
        page.screenshot(path=str(DOCS / f"ui_{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("media") / "clip.mp4"
    patchvid.write_video(path, make_clip(8, 48, 64), Fraction(25))
    return path


def _download(page, tmp_path, link) -> Path:
    with page.expect_download() as d:
        link.click()
    path = tmp_path / d.value.suggested_filename
    d.value.save_as(path)
    return path


def test_generate_two_samples(page, clip, tmp_path):
    page.locator("#gen-input input[type=file]").set_input_files(str(clip))
    page.wait_for_selector("#gen-input-info :text('64x48')", timeout=20000)
    page.get_by_label("--max-size").first.fill("32")
    page.click("#gen-run")
    page.wait_for_function("document.querySelectorAll('#gen-results video[src]').length == 2", timeout=60000)
    command = page.locator("#gen-results .pv-command textarea").input_value()
    assert command.startswith("patchvid generate ") and "--samples 2 --max-size 32" in command
    links = page.locator("#gen-results .pv-files a")
    assert links.count() == 4
    names = []
    for i in range(4):
        path = _download(page, tmp_path, links.nth(i))
        names.append(path.name)
        if path.suffix == ".mp4":
            assert patchvid.read_video(path).frames.shape == (8, 24, 32, 3)
        else:
            assert path.read_text().startswith("{")
    assert sorted(names) == ["sample_000.mp4", "sample_000.mp4.json", "sample_001.mp4", "sample_001.mp4.json"]
    _shot(page, tmp_path, "generate")


def test_inpaint_with_a_painted_mask(page, clip, tmp_path):
    page.get_by_role("tab", name="inpaint").click()
    page.locator("#inp-input input[type=file]").set_input_files(str(clip))
    canvas = page.locator("#inp-editor canvas").first
    canvas.wait_for(timeout=20000)
    time.sleep(1.5)
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for dy in (-10, 0, 10):
        page.mouse.move(x - 30, y + dy)
        page.mouse.down()
        page.mouse.move(x + 30, y + dy, steps=8)
        page.mouse.up()
    page.get_by_label("--max-size").nth(1).fill("32")
    page.click("#inp-run")
    page.wait_for_function("document.querySelectorAll('#inp-results video[src]').length == 1", timeout=60000)
    assert "--mask" in page.locator("#inp-results .pv-command textarea").input_value()
    links = page.locator("#inp-results .pv-files a")
    path = _download(page, tmp_path, links.first)
    assert patchvid.read_video(path).frames.shape == (8, 24, 32, 3)
    _shot(page, tmp_path, "inpaint")


def test_cancel_a_run(page, server, tmp_path):
    big = tmp_path / "big.mp4"
    patchvid.write_video(big, make_clip(24, 96, 128), Fraction(25))
    page.locator("#gen-input input[type=file]").set_input_files(str(big))
    page.wait_for_selector("#gen-input-info :text('128x96')", timeout=20000)
    page.get_by_label("--max-size").first.fill("")
    page.click("#gen-run")
    # the progress bar over the outputs follows the command's progress lines
    page.locator("#gen-results .progress-level").get_by_text("sample 1/2").first.wait_for(timeout=60000)
    _shot(page, tmp_path, "progress")
    page.click("#gen-cancel")
    page.wait_for_selector("#gen-results .pv-status :text('cancelled')", timeout=20000)
    assert page.locator("#gen-results video[src]").count() == 0
    runs = sorted(server[1].glob("tmp/patchvid-ui-*/*-generate"))
    time.sleep(1)
    assert runs and list((runs[-1] / "out").iterdir()) == []
    _shot(page, tmp_path, "cancel")


def test_a_corrupt_upload_shows_the_error(page, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00garbage" * 200)
    page.get_by_role("tab", name="evaluate").click()
    page.locator("#ev-input input[type=file]").set_input_files(str(bad))
    info = page.locator("#ev-input-info")
    info.get_by_text("not a readable video or image").wait_for(timeout=20000)
    assert "broken.mp4" in info.inner_text() and "Cannot use this file" in info.inner_text()
    page.click("#ev-run")  # a run on it ends in the one error line, as a message on the page
    page.locator("#ev-results .pv-status").get_by_text("not a readable video or image").wait_for(timeout=60000)
    _shot(page, tmp_path, "error")


def test_a_failed_run_shows_the_cli_error(page, clip, tmp_path):
    page.locator("#gen-input input[type=file]").set_input_files(str(clip))
    page.wait_for_selector("#gen-input-info :text('64x48')", timeout=20000)
    page.locator("#gen-input").page.get_by_text("method options").first.click()
    page.get_by_label("--noise").first.fill("500")
    page.click("#gen-run")
    # the error stays in the status after its toast has gone
    page.locator("#gen-results .pv-status").get_by_text(
        "failed: argument --noise: must be a number from 0 to 100, got '500'").wait_for(timeout=60000)
    assert "--noise 500" in page.locator("#gen-results .pv-command textarea").input_value()


def test_evaluate_shows_the_score_table(page, clip, tmp_path):
    other = tmp_path / "other.mp4"
    patchvid.write_video(other, make_clip(8, 48, 64, seed=1), Fraction(25))
    page.get_by_role("tab", name="evaluate").click()
    page.locator("#ev-input input[type=file]").set_input_files(str(clip))
    page.wait_for_selector("#ev-input-info :text('64x48')", timeout=20000)
    page.locator("#ev-samples input[type=file]").set_input_files([str(clip), str(other)])
    page.get_by_label("--max-size").last.fill("32")
    page.click("#ev-run")
    page.locator("#ev-results .pv-status").get_by_text("scored 2 sample(s)").wait_for(timeout=60000)
    table = page.locator("#ev-table").inner_text()
    for word in ("measure", "#1", "#2", "mean", "coherence", "diversity"):
        assert word in table, table
    assert "patchvid evaluate" in page.locator("#ev-results .pv-command textarea").input_value()
    _shot(page, tmp_path, "evaluate")
