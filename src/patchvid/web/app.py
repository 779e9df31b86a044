"""The Gradio page of ``patchvid ui``: a tab per command, each a form around :mod:`.handlers`.

Every run is the ``patchvid`` command line shown under it, run as a subprocess in a folder of its own
(:class:`~patchvid.web.handlers.Workspace`); Cancel terminates it (SIGTERM, through the workspace, while
Gradio closes the run's generator, whose ``finally`` stops the subprocess too). The progress bar
(``gr.Progress``) follows the command's progress lines. One run at a time across every
tab and user (one queue); the rest wait their turn. Nothing is fetched from the internet: the theme
uses the system's fonts and the page has no share link.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import time  # noqa: E402
from collections.abc import Callable, Mapping  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from ..errors import PatchvidError  # noqa: E402
from . import handlers as h  # noqa: E402

SLOTS = 4  # outputs shown side by side (generate's samples)
QUEUE = "patchvid-run"  # every run shares this concurrency group: one at a time
VIDEO_TYPES = [".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif", ".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif",
               ".tiff"]
CSS = ".pv-command textarea { font-family: ui-monospace, monospace; }"


def theme() -> gr.themes.Base:
    """The default look with system fonts only (no font files or stylesheets from the internet)."""
    return gr.themes.Default(font=["system-ui", "Segoe UI", "Roboto", "sans-serif"],
                             font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"])


class _Page:
    """The components and wiring shared by the tabs."""

    def __init__(self, workspace: h.Workspace, max_upload_mb: float, max_frames: int):
        self.ws = workspace
        self.max_upload_mb = max_upload_mb
        self.max_frames = max_frames

    # ---------------------------------------------------------------------------- inputs

    def upload(self, label: str, elem_id: str) -> tuple[gr.File, gr.Markdown]:
        """A file input and the line describing it (size, length, frame rate), checked on upload."""
        file = gr.File(label=label, file_types=VIDEO_TYPES, type="filepath", elem_id=elem_id, height=110)
        info = gr.Markdown("", elem_id=f"{elem_id}-info")
        file.change(self.describe, inputs=file, outputs=info, queue=False)
        return file, info

    def describe(self, path: str | None) -> str:
        if not path:
            return ""
        try:
            return f"**Input:** {h.check_upload(path, self.max_upload_mb, self.max_frames)}"
        except PatchvidError as e:  # shown where the description goes (an unqueued event shows no toast)
            return f"**Cannot use this file:** {e}"

    def describe_demo(self, use: bool, path: str | None) -> str:
        """The generate tab's input line with "use the demo clip" ticked (else the upload's)."""
        if not use:
            return self.describe(path)
        from ..cli.generate import DEMO_MAX_SIZE, DEMO_RANGE

        return (f"**Input:** the demo clip, Big Buck Bunny (CC-BY 3.0): {DEMO_RANGE[1]} frames from "
                f"{DEMO_RANGE[0]:g} s, shrunk to at most {DEMO_MAX_SIZE} px unless --max-size says otherwise")

    def checked(self, path: str | None, what: str = "a video or image") -> str:
        """``path`` after the upload checks (size, length, readable), for a run."""
        if not path:
            raise h.InputError(f"upload {what} first")
        h.check_upload(path, self.max_upload_mb, self.max_frames)
        return path

    def max_size(self, value: str = "256") -> gr.Textbox:
        return gr.Textbox(value=value, label="--max-size", max_lines=1,
                          info=h.options_of("generate", "input")[-1].help + " (empty: full size)")

    def method(self, command: str) -> dict[str, gr.components.Component]:
        """A control per method option of ``command``, with the CLI's default and help."""
        controls: dict[str, gr.components.Component] = {}
        with gr.Accordion("method options", open=False):
            for option in h.options_of(command, "method"):
                if option.choices:
                    controls[option.flag] = gr.Dropdown(list(option.choices), value=option.default or None,
                                                        label=option.flag, info=option.help)
                else:
                    controls[option.flag] = gr.Textbox(value=option.default, label=option.flag, info=option.help,
                                                       max_lines=1)
        return controls

    def editor(self, elem_id: str) -> gr.ImageEditor:
        """A frame to paint a mask on: white brush, eraser; the strokes are the mask."""
        return gr.ImageEditor(label="paint the region (white)", type="numpy", image_mode="RGBA", elem_id=elem_id,
                              sources=(), transforms=(), layers=False, height=360,
                              brush=gr.Brush(colors=["#ffffff"], default_color="#ffffff", color_mode="fixed",
                                             default_size=6),
                              eraser=gr.Eraser(default_size=8))

    def frame_for(self, path: str | None) -> dict | None:
        """The editor's value for the first frame of an upload (nothing painted)."""
        if not path:
            return None
        try:
            frame = h.first_frame(path)
        except PatchvidError:  # the upload's description says why
            return None
        return {"background": frame, "layers": [], "composite": None}

    # ---------------------------------------------------------------------------- outputs

    def results(self, slots: int = 1) -> dict:
        """Players for ``slots`` outputs side by side, downloads, the command line and a status line."""
        out: dict = {"videos": [], "images": []}
        with gr.Row():
            for i in range(slots):
                with gr.Column(min_width=160):
                    out["videos"].append(gr.Video(label=f"output {i + 1}", interactive=False, visible=i == 0,
                                                  loop=True, autoplay=True, elem_classes="pv-video"))
                    out["images"].append(gr.Image(label=f"output {i + 1}", interactive=False, visible=False,
                                                  elem_classes="pv-image"))
        out["status"] = gr.Markdown("", elem_classes="pv-status")
        out["command"] = gr.Textbox(label="the same run on the command line", interactive=False, lines=1,
                                    elem_classes="pv-command", buttons=["copy"])
        out["files"] = gr.File(label="downloads: outputs and their JSON records", file_count="multiple",
                               interactive=False, elem_classes="pv-files")
        return out

    @staticmethod
    def components(out: Mapping) -> list:
        return [*out["videos"], *out["images"], out["status"], out["command"], out["files"],
                *([out["table"]] if "table" in out else [])]

    @staticmethod
    def show(out: Mapping, result: h.Result) -> dict:
        """Updates that show ``result``: each output in a player, and every file for download."""
        updates: dict = {}
        media = [p for p in result.outputs if p.is_file()]
        for i, (video, image) in enumerate(zip(out["videos"], out["images"])):
            path = media[i] if i < len(media) else None
            is_image = path is not None and path.suffix.lower() in h.IMAGE_SUFFIXES
            updates[video] = gr.update(value=str(path) if path and not is_image else None,
                                       visible=bool(path and not is_image) or (i == 0 and path is None))
            updates[image] = gr.update(value=str(path) if is_image else None, visible=is_image)
        files = [str(p) for p in [*media, *result.records]]
        updates[out["files"]] = files or None
        updates[out["command"]] = result.command
        updates[out["status"]] = f"done in {result.seconds:.1f} s: {len(media)} output(s)"
        return updates

    # ---------------------------------------------------------------------------- wiring

    def wire(self, name: str, button: gr.Button, cancel: gr.Button, inputs: Mapping[str, object],
             out: Mapping, make_argv: Callable[[dict, Path], list[str]],
             after: Callable[[h.Result, dict], dict] | None = None) -> None:
        """``button`` runs the command ``make_argv`` makes from the values of ``inputs`` (name ->
        component, or a dict of them); ``cancel`` stops it."""
        flat: dict = {}
        for key, value in inputs.items():
            if isinstance(value, Mapping):
                flat.update({(key, k): c for k, c in value.items()})
            else:
                flat[key] = value
        outputs = self.components(out)

        def values_of(data: dict) -> dict:
            values: dict = {}
            for key, component in flat.items():
                if isinstance(key, tuple):
                    values.setdefault(key[0], {})[key[1]] = data[component]
                else:
                    values[key] = data[component]
            return values

        def go(data: dict, request: gr.Request, progress=gr.Progress()):  # noqa: B008 (Gradio's convention)
            session = getattr(request, "session_hash", "") or ""
            folder = self.ws.new_folder(name)
            try:
                argv = make_argv(values_of(data), folder)
            except PatchvidError as e:
                # the status keeps the error on the page after the toast has gone
                yield {out["status"]: f"failed: {e}"}
                raise gr.Error(str(e), print_exception=False) from None
            cleared = {player: gr.update(value=None) for player in [*out["videos"], *out["images"]]}
            yield {**cleared, out["command"]: h.command_text(argv), out["status"]: "starting", out["files"]: None}
            run = self.ws.start(argv, folder, session)
            try:
                for step in run.follow():
                    progress(step.fraction, desc=step.text or "starting")
                result = run.result()
            except h.Cancelled as e:
                yield {out["status"]: str(e)}
                return
            except PatchvidError as e:
                yield {out["status"]: f"failed: {e}"}
                raise gr.Error(str(e), print_exception=False) from None
            finally:
                run.cancel()  # also when Gradio closes this generator (Cancel, a closed page)
                self.ws.forget(run, session)
            updates = self.show(out, result)
            if after is not None:
                updates.update(after(result, values_of(data)))
            yield updates

        event = button.click(go, inputs=set(flat.values()), outputs=outputs, concurrency_id=QUEUE,
                             concurrency_limit=1)

        def stop(request: gr.Request):
            stopped = self.ws.cancel(getattr(request, "session_hash", "") or "")
            return "cancelled: the run was stopped and what it had written was removed" if stopped else "no run"

        cancel.click(stop, outputs=out["status"], cancels=[event], queue=False)


def _buttons(prefix: str) -> tuple[gr.Button, gr.Button]:
    with gr.Row():
        run = gr.Button("Run", variant="primary", elem_id=f"{prefix}-run")
        cancel = gr.Button("Cancel", variant="stop", elem_id=f"{prefix}-cancel")
    return run, cancel


def _number(value: object) -> object:
    """A ``gr.Number`` value for the command line: a whole number as an int, empty as ``None``."""
    if value is None or value == "":
        return None
    return int(value) if float(value).is_integer() else value


def build_app(workspace: h.Workspace | None = None, max_upload_mb: float = 200, max_frames: int = 2000) -> gr.Blocks:
    """The page: a tab per command. ``workspace`` holds the runs' folders (a new one by default);
    uploads above ``max_upload_mb`` MB or ``max_frames`` frames are refused."""
    ws = workspace or h.Workspace()
    page = _Page(ws, max_upload_mb, max_frames)
    with gr.Blocks(title="patchvid", analytics_enabled=False) as demo:
        demo.patchvid_workspace = ws  # type: ignore[attr-defined]
        gr.Markdown("# patchvid\nNew video from a single video: each tab runs the `patchvid` command shown under "
                    "its results, in a folder of its own. One run at a time; Cancel stops it.")
        with gr.Tab("generate", id="generate"):
            gr.Markdown("Diverse variations of a video or image (`patchvid generate`).")
            with gr.Row():
                with gr.Column():
                    file, file_info = page.upload("video, GIF or image", "gen-input")
                    demo_clip = gr.Checkbox(label="use the demo clip (Big Buck Bunny, --demo)", value=False)
                    demo_clip.change(page.describe_demo, inputs=[demo_clip, file], outputs=file_info, queue=False)
                    samples = gr.Slider(1, SLOTS, value=2, step=1, label="--samples", info="how many variations")
                    seed = gr.Number(0, precision=0, label="--seed", info="seed of the first sample; sample i uses "
                                     "SEED + i")
                    size = page.max_size()
                    estimate = gr.Markdown("", elem_id="gen-estimate")
                    for changed in (file, size, samples):  # memory and time, before running
                        changed.change(h.generate_estimate, inputs=[file, size, samples], outputs=estimate,
                                       queue=False)
                    loop = gr.Checkbox(label="--loop", info="make each sample periodic in time")
                    scale = gr.Textbox("", label="--scale", max_lines=1,
                                       info="output size relative to the input, T,H,W (empty: 1)")
                    method = page.method("generate")
                    run, cancel = _buttons("gen")
                with gr.Column(scale=2, elem_id="gen-results"):
                    out = page.results(SLOTS)

            def gen_argv(v: dict, folder: Path) -> list[str]:
                path = None if v["demo"] else page.checked(v["file"])
                return h.generate_argv(path, demo=bool(v["demo"]), samples=int(v["samples"]), seed=_number(v["seed"]),
                                       max_size=v["size"], loop=v["loop"], scale=v["scale"], method=v["method"])

            page.wire("generate", run, cancel, {"file": file, "demo": demo_clip, "samples": samples, "seed": seed,
                                                "size": size, "loop": loop, "scale": scale, "method": method},
                      out, gen_argv)

        with gr.Tab("inpaint", id="inpaint"):
            gr.Markdown("Fill the painted region with patches from the rest of the clip (`patchvid inpaint`). "
                        "Upload, then paint over the region on the first frame.")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("video, GIF or image", "inp-input")
                    editor = page.editor("inp-editor")
                    file.change(page.frame_for, inputs=file, outputs=editor, queue=False)
                    fill = gr.Dropdown(h.choices_of("inpaint", "--fill"),
                                       value="cue", label="--fill", info="cue: the colours painted in the region "
                                       "steer what appears; smooth: remove what is there")
                    seed = gr.Number(0, precision=0, label="--seed")
                    size = page.max_size()
                    method = page.method("inpaint")
                    run, cancel = _buttons("inp")
                with gr.Column(scale=2, elem_id="inp-results"):
                    out = page.results(1)

            def inp_argv(v: dict, folder: Path) -> list[str]:
                path = page.checked(v["file"])
                mask = _mask(v["editor"], folder)
                return h.inpaint_argv(path, str(mask), fill=v["fill"], seed=_number(v["seed"]), max_size=v["size"],
                                      method=v["method"])

            page.wire("inpaint", run, cancel, {"file": file, "editor": editor, "fill": fill, "seed": seed,
                                               "size": size, "method": method}, out, inp_argv)

        with gr.Tab("cinemagraph", id="cinemagraph"):
            gr.Markdown("A still frame but for the painted region, which loops (`patchvid cinemagraph`).")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("video or GIF", "cin-input")
                    editor = page.editor("cin-editor")
                    file.change(page.frame_for, inputs=file, outputs=editor, queue=False)
                    still = gr.Number(None, precision=0, label="--still", info="frame shown outside the region "
                                      "(default: the loop's first)")
                    feather = gr.Number(None, label="--feather", info="softness of the region's edge, pixels")
                    size = page.max_size()
                    run, cancel = _buttons("cin")
                with gr.Column(scale=2, elem_id="cin-results"):
                    out = page.results(1)

            def cin_argv(v: dict, folder: Path) -> list[str]:
                path = page.checked(v["file"], "a video")
                return h.cinemagraph_argv(path, str(_mask(v["editor"], folder)), still=_number(v["still"]),
                                          feather=_number(v["feather"]), max_size=v["size"])

            page.wire("cinemagraph", run, cancel, {"file": file, "editor": editor, "still": still,
                                                   "feather": feather, "size": size}, out, cin_argv)

        with gr.Tab("retarget", id="retarget"):
            gr.Markdown("A new width, height or length made of the clip's patches (`patchvid retarget`).")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("video, GIF or image", "ret-input")
                    width = gr.Number(None, precision=0, label="--width")
                    height = gr.Number(None, precision=0, label="--height")
                    frames = gr.Number(None, precision=0, label="--frames")
                    loop = gr.Checkbox(label="--loop")
                    size = page.max_size()
                    method = page.method("retarget")
                    run, cancel = _buttons("ret")
                with gr.Column(scale=2, elem_id="ret-results"):
                    out = page.results(1)

            def ret_argv(v: dict, folder: Path) -> list[str]:
                return h.retarget_argv(page.checked(v["file"]), width=_number(v["width"]),
                                       height=_number(v["height"]), frames=_number(v["frames"]), loop=v["loop"],
                                       max_size=v["size"], method=v["method"])

            page.wire("retarget", run, cancel, {"file": file, "width": width, "height": height, "frames": frames,
                                                "loop": loop, "size": size, "method": method}, out, ret_argv)

        with gr.Tab("extend / loop", id="extend"):
            gr.Markdown("More of the clip before or after it, or a seamless loop of it (`patchvid extend`).")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("video or GIF", "ext-input")
                    after = gr.Textbox("2", label="--after", max_lines=1, info="how much to add after the end: "
                                       "seconds (5, 1:30) or frames (12f)")
                    before = gr.Textbox("", label="--before", max_lines=1, info="how much to add before the start")
                    loop = gr.Checkbox(label="--loop", info="make it loop seamlessly")
                    size = page.max_size()
                    method = page.method("extend")
                    run, cancel = _buttons("ext")
                with gr.Column(scale=2, elem_id="ext-results"):
                    out = page.results(1)

            def ext_argv(v: dict, folder: Path) -> list[str]:
                return h.extend_argv(page.checked(v["file"], "a video"), after=v["after"], before=v["before"],
                                     loop=v["loop"], max_size=v["size"], method=v["method"])

            page.wire("extend", run, cancel, {"file": file, "after": after, "before": before, "loop": loop,
                                              "size": size, "method": method}, out, ext_argv)

        with gr.Tab("analogy", id="analogy"):
            gr.Markdown("The layout and motion of one clip made of another's patches (`patchvid analogy`).")
            with gr.Row():
                with gr.Column():
                    structure, _ = page.upload("structure (layout and motion)", "ana-structure")
                    appearance, _ = page.upload("appearance (the patches)", "ana-appearance")
                    mode = gr.Dropdown(h.choices_of("analogy", "--mode"),
                                       value="motion", label="--mode", info="what the structure input is")
                    size = page.max_size()
                    method = page.method("analogy")
                    run, cancel = _buttons("ana")
                with gr.Column(scale=2, elem_id="ana-results"):
                    out = page.results(1)

            def ana_argv(v: dict, folder: Path) -> list[str]:
                return h.analogy_argv(page.checked(v["structure"]), page.checked(v["appearance"]), mode=v["mode"],
                                      max_size=v["size"], method=v["method"])

            page.wire("analogy", run, cancel, {"structure": structure, "appearance": appearance, "mode": mode,
                                               "size": size, "method": method}, out, ana_argv)

        with gr.Tab("collage", id="collage"):
            gr.Markdown("A rough edit of an image or clip made whole with its patches (`patchvid collage`).")
            with gr.Row():
                with gr.Column():
                    original, _ = page.upload("original", "col-original")
                    edited, _ = page.upload("your rough edit", "col-edited")
                    size = page.max_size()
                    method = page.method("collage")
                    run, cancel = _buttons("col")
                with gr.Column(scale=2, elem_id="col-results"):
                    out = page.results(1)

            def col_argv(v: dict, folder: Path) -> list[str]:
                return h.collage_argv(page.checked(v["original"]), page.checked(v["edited"]), max_size=v["size"],
                                      method=v["method"])

            page.wire("collage", run, cancel, {"original": original, "edited": edited, "size": size,
                                               "method": method}, out, col_argv)

        with gr.Tab("loop / texture", id="loops"):
            gr.Markdown("The clip's best seamless loop (`patchvid loop`), or a video texture of any length "
                        "(`patchvid texture`).")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("video or GIF", "loop-input")
                    what = gr.Radio(["loop", "texture"], value="loop", label="command")
                    min_length = gr.Textbox("", label="--min-length (loop)", max_lines=1)
                    max_length = gr.Textbox("", label="--max-length (loop)", max_lines=1)
                    duration = gr.Textbox("4", label="--duration (texture)", max_lines=1,
                                          info="seconds, or frames as 50f")
                    size = page.max_size()
                    run, cancel = _buttons("loop")
                with gr.Column(scale=2, elem_id="loop-results"):
                    out = page.results(1)

            def loop_argv(v: dict, folder: Path) -> list[str]:
                path = page.checked(v["file"], "a video")
                if v["what"] == "texture":
                    return h.texture_argv(path, duration=v["duration"], max_size=v["size"])
                return h.loop_argv(path, min_length=v["min"], max_length=v["max"], max_size=v["size"])

            page.wire("loops", run, cancel, {"file": file, "what": what, "min": min_length, "max": max_length,
                                             "duration": duration, "size": size}, out, loop_argv)

        with gr.Tab("blend", id="blend"):
            gr.Markdown("Paste the painted region of one clip or image into another without a seam "
                        "(`patchvid blend`).")
            with gr.Row():
                with gr.Column():
                    source, _ = page.upload("source (region from)", "bl-source")
                    editor = page.editor("bl-editor")
                    source.change(page.frame_for, inputs=source, outputs=editor, queue=False)
                    target, _ = page.upload("target (pasted into)", "bl-target")
                    offset = gr.Textbox("0,0,0", label="--offset", max_lines=1,
                                        info="where the source's first frame and top-left land: T,Y,X")
                    mixed = gr.Checkbox(label="--mixed", info="keep the target's texture where it is stronger")
                    run, cancel = _buttons("bl")
                with gr.Column(scale=2, elem_id="bl-results"):
                    out = page.results(1)

            def bl_argv(v: dict, folder: Path) -> list[str]:
                return h.blend_argv(page.checked(v["source"]), page.checked(v["target"]),
                                    str(_mask(v["editor"], folder)), offset=v["offset"], mixed=v["mixed"])

            page.wire("blend", run, cancel, {"source": source, "editor": editor, "target": target,
                                             "offset": offset, "mixed": mixed}, out, bl_argv)

        with gr.Tab("evaluate", id="evaluate"):
            gr.Markdown("Scores of samples against their input (`patchvid evaluate`): coherence, completeness, "
                        "patch SWD, NNFDIV, SIFID, diversity.")
            with gr.Row():
                with gr.Column():
                    file, _ = page.upload("the input", "ev-input")
                    samples = gr.File(label="samples", file_count="multiple", file_types=VIDEO_TYPES,
                                      type="filepath", elem_id="ev-samples")
                    loop = gr.Checkbox(label="--loop", info="the samples are loops: also the seam ratio")
                    size = page.max_size()
                    run, cancel = _buttons("ev")
                with gr.Column(scale=2, elem_id="ev-results"):
                    out = page.results(0)
                    out["table"] = gr.Dataframe(headers=["measure", "#1", "mean"], label="scores", interactive=False,
                                                elem_id="ev-table")

            def ev_argv(v: dict, folder: Path) -> list[str]:
                paths = [page.checked(p, "a sample") for p in (v["samples"] or [])]
                return h.evaluate_argv(page.checked(v["file"]), paths, loop=v["loop"], max_size=v["size"])

            def ev_table(result: h.Result, v: dict, out=out) -> dict:
                headers, rows = h.score_table(result.report() or {})
                rounded = [[round(x, 4) if isinstance(x, float) else x for x in row] for row in rows]
                return {out["table"]: gr.update(value=rounded, headers=headers),
                        out["status"]: f"scored {len(v['samples'] or [])} sample(s) in {result.seconds:.1f} s"}

            page.wire("evaluate", run, cancel, {"file": file, "samples": samples, "loop": loop, "size": size},
                      out, ev_argv, after=ev_table)
    demo.queue(default_concurrency_limit=1)
    return demo


def _mask(value: Mapping | None, folder: Path) -> Path:
    """The editor's strokes as ``folder/mask.png`` (white: the region), at the frame's size."""
    if not value or value.get("background") is None:
        raise h.InputError("upload a video or image and paint the region first")
    background = value["background"]
    return h.save_mask(value.get("layers") or [], background.shape[:2], folder / "mask.png")


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, max_upload_mb: float = 200) -> str:
    """Start the server without blocking; its address. No share link, no analytics, system fonts."""
    ws = demo.patchvid_workspace  # type: ignore[attr-defined]
    for attempt in range(3):  # Gradio gives its server 5 s to start: a loaded machine may need another try
        try:
            _, url, _ = demo.launch(
                server_name=host, server_port=port, share=False, prevent_thread_lock=True, quiet=True,
                max_file_size=f"{max_upload_mb:g}mb", allowed_paths=[str(ws.root)], theme=theme(), css=CSS,
                ssr_mode=False, footer_links=[], inbrowser=False, show_error=True)
            return url
        except OSError:
            if attempt == 2:
                raise
            demo.close()
            time.sleep(1.0)
    raise AssertionError("unreachable")
