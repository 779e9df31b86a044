"""Progress: plain lines in logs, a tqdm bar in terminals, nothing when quiet; the work weights of a
synthesis and of ``patchvid evaluate`` add up to what the bar stands for."""

import io
import math
import re
import sys
import types

import numpy as np
import pytest

from patchvid.cli import main, progress
from patchvid.cli.progress import EXACT_COST, FIRST_ROUND_EXTRA, Progress, round_callback, solve_work
from patchvid.evaluation import metrics
from patchvid.evaluation.scores import score, step_costs
from patchvid.media import write_video
from patchvid.synthesis.engine import search_per_level
from patchvid.synthesis.problem import solve
from patchvid.synthesis.search import ExactSearch
from patchvid.synthesis.settings import GenerateSettings
from patchvid.tasks.generate import prepare_generate

from ..conftest import make_clip

STAMP = r"\[ *\d+\.\ds\] "
PLAIN = re.compile(STAMP + r"sample 1/1: (\d+)% \(ETA (\d+):(\d\d):(\d\d)\)")
END = re.compile(STAMP + r"sample 1/1: 100% in \d+:\d\d:\d\d")


@pytest.fixture
def clock(monkeypatch):
    """A fake clock for the progress module: ``clock.now`` seconds, moved by the test."""
    fake = types.SimpleNamespace(now=0.0)
    fake.perf_counter = lambda: fake.now
    monkeypatch.setattr(progress, "time", fake)
    return fake


def test_plain_lines_have_percentages_an_eta_and_come_each_tenth(clock):
    out = io.StringIO()
    p = Progress(stream=out, interactive=False)
    with p.bar(1000, "sample 1/1") as bar:
        for _ in range(1000):
            clock.now += 0.01
            bar.advance(1)
    *lines, end = out.getvalue().splitlines()
    matches = [PLAIN.fullmatch(line) for line in lines]
    assert all(matches), lines
    assert [int(m[1]) for m in matches] == [10, 20, 30, 40, 50, 60, 70, 80, 90]  # 10 s: no line for time
    h, m, s = (int(v) for v in matches[0].groups()[1:])
    assert 3600 * h + 60 * m + s == 9  # 1 s for 10 %: 9 s to go
    assert END.fullmatch(end), end


def test_plain_lines_come_at_most_every_30_seconds_when_the_work_is_slow(clock):
    out = io.StringIO()
    with Progress(stream=out, interactive=False).bar(100, "sample 1/1") as bar:
        for _ in range(40):  # 0.75 % every 5 s: a line at 10 %, 20 % and every 30 s between
            clock.now += 5
            bar.advance(0.75)
    *lines, end = out.getvalue().splitlines()
    percents = [int(PLAIN.fullmatch(line)[1]) for line in lines]
    assert len(lines) <= 200 / 30 + 3 and percents == sorted(percents) and 10 in percents and 20 in percents
    assert PLAIN.fullmatch(lines[0])[1] == "4"  # 30 s before 10 %
    assert lines[0].endswith("(ETA 0:10:37)")  # 30 s for 4.5 %: 637 s to go
    assert end.endswith("sample 1/1: 30% in 0:03:20")  # the work stopped short of its total


def test_quiet_prints_nothing(capsys):
    for interactive in (True, False, None):
        out = io.StringIO()
        p = Progress(quiet=True, stream=out, interactive=interactive)
        p("a message")
        with p.bar(10, "sample 1/1") as bar:
            bar.advance(5)
            p("during the bar")
            bar.describe("sample 2/2")
            bar.advance(5)
        assert out.getvalue() == "" and bar.done == 10
    Progress(quiet=True)("to stderr")
    assert capsys.readouterr() == ("", "")


def test_interactive_draws_a_tqdm_bar_and_messages_stay_whole_lines():
    out = io.StringIO()
    p = Progress(stream=out, interactive=True)
    with p.bar(10, "sample 1/2") as bar:
        bar.advance(4)
        p("note: in the middle")
        bar.describe("sample 2/2")
        bar.advance(6)
    p("after")
    text = out.getvalue()
    assert re.search(r"\rsample 1/2:  40%\|#+ *\| \d\d:\d\d<\d\d:\d\d", text), repr(text)
    assert "sample 2/2: 100%|" in text
    lines = text.split("\n")
    *_, wiped, message = next(line for line in lines if "in the middle" in line).split("\r")
    assert wiped.strip() == "" and re.fullmatch(STAMP + "note: in the middle", message)  # a whole line
    assert re.fullmatch(STAMP + "after", lines[-2]) and lines[-1] == ""  # the bar closed: plain lines again


def test_the_default_stream_is_interactive_in_a_notebook(monkeypatch):
    class Shell:
        config = {"IPKernelApp": {}}

    assert not progress.in_notebook()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: Shell()))
    assert progress.in_notebook()
    assert Progress().interactive and not Progress(stream=io.StringIO()).interactive


@pytest.fixture(scope="module")
def small_problem():
    return prepare_generate(make_clip(), GenerateSettings().replace(device="cpu", iterations=2))


def test_solve_work_weighs_each_level_by_voxels_rounds_and_search(small_problem):
    plan = small_problem.plan
    work = solve_work(plan)
    shapes = plan.levels.output
    assert sorted(work) == list(range(len(shapes)))
    choose = search_per_level(plan.search, shapes, plan.levels.input, plan.patch)
    exact = [isinstance(choose(level), ExactSearch) for level in range(len(shapes))]
    assert not exact[0] and all(exact[1:])  # both kinds in this plan
    rounds = [2] * (len(shapes) - 1) + [plan.engine.coarsest_iterations]
    expected = [math.prod(s) * (EXACT_COST if e else 1) * (r + FIRST_ROUND_EXTRA)
                for s, e, r in zip(shapes, exact, rounds)]
    assert [work[level] for level in range(len(shapes))] == [round(v) for v in expected]
    assert sum(work.values()) == pytest.approx(sum(expected), abs=len(shapes))


def test_round_callback_reaches_exactly_the_total_after_a_real_solve(small_problem):
    work = solve_work(small_problem.plan)
    total = sum(work.values())
    with Progress(quiet=True).bar(total, "sample 1/1") as bar:
        advance = round_callback(bar, work)
        seen = []

        def on_round(level: int, it: int, rounds: int) -> None:
            advance(level, it, rounds)
            seen.append((level, it, bar.done))

        solve(small_problem, 0, on_round=on_round)
    assert bar.done == total and bar.fraction == 1.0
    done = [d for *_, d in seen]
    assert done == sorted(done) and len(set(done)) == len(done)  # every round moves the bar on
    levels = len(work)
    assert len(seen) == 2 * (levels - 1) + small_problem.plan.engine.coarsest_iterations
    finished = {level: d for level, it, d in seen if it == (1 if level == levels - 1 else 2)}
    assert finished[0] == total and finished[levels - 1] == work[levels - 1]


@pytest.fixture
def two_samples():
    clip = make_clip()
    noisy = np.clip(clip + np.random.default_rng(0).normal(0, 12, clip.shape), 0, 255).astype(np.uint8)
    return clip, [clip, noisy]


def test_scoring_reports_steps_that_add_up_to_the_whole(two_samples):
    reference, samples = two_samples
    steps = []
    scores = score(samples, reference, {"coherence", "completeness", "swd", "nnfdiv", "features", "diversity"},
                   on_step=steps.append)
    assert scores.samples[1]["coherence"] > 0 and scores.diversity > 0
    assert sum(steps) == pytest.approx(1.0) and all(s > 0 for s in steps)
    assert len(steps) == 1 + 2 * 7  # the input's features, then 7 steps a sample
    costs = step_costs([s.shape for s in samples], reference.shape, {"coherence", "features"})
    assert costs[(0, "coherence")] > costs[(0, "coherence_half")] > 0 and costs[("reference features",)] > 0


def test_skipped_steps_still_count_as_done(two_samples, monkeypatch):
    reference, samples = two_samples

    def no_weights(frames):
        raise metrics.PatchvidError("no weights here")

    monkeypatch.setattr(metrics, "feature_statistics", no_weights)
    steps = []
    scores = score(samples, reference, {"coherence", "features"}, on_step=steps.append)
    assert "features" in scores.skipped and sum(steps) == pytest.approx(1.0)
    steps = []
    assert score(samples, reference, {"diversity"}, on_step=steps.append).diversity > 0
    assert steps == [1.0]  # nothing slow: done at once


def test_evaluate_shows_its_progress_in_a_log(tmp_path, two_samples, capsys):
    reference, samples = two_samples
    for name, frames in (("input", reference), ("same", samples[0]), ("noisy", samples[1])):
        write_video(tmp_path / name, frames)
    assert main(["evaluate", str(tmp_path / "input"), str(tmp_path / "same"), str(tmp_path / "noisy"),
                 "--measures", "coherence,swd"]) == 0
    err = capsys.readouterr().err.splitlines()
    bar = [line for line in err if "measuring 2 samples" in line]
    assert 2 <= len(bar) <= 11 and bar[-1].endswith(tuple(f"100% in 0:00:{s:02d}" for s in range(60)))
    assert all(re.fullmatch(STAMP + r"measuring 2 samples: \d+% \(ETA \d:\d\d:\d\d\)", line) for line in bar[:-1])
    assert any("measuring sample 2/2" in line for line in err)
