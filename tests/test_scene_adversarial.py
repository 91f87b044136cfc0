"""What CounterfeiterAndPolice shows, read from its scene graph (tests/scene_probe.py) on designed runs.

Every expected number comes from tests/designed.py's closed forms, computed here: snapshot k of 10 (step 20k) is at
learning fraction a = k / 10; D's score for fixed sample i of n is 0.95 - 0.4 i / (n - 1) on the real one and
(0.05 + 0.4 i / (n - 1)) (0.2 + a) on the fake one (the image run here fools D at its last snapshot: 0.5 plus half
that there, so wrong verdicts are on screen too; the toy runs deal the scores out to the samples in a fixed shuffled
order, so a bill's mean is not the batch's); at step s (t = s / 200) D is right on a share 1 - 0.5 d t of the
real batch and 1 - 0.4 d t of the fake one (d = d_fall, 1 by default), so its accuracy is 1 - 0.45 d t. The scene
averages over the last 200 // 50 = 4 steps.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from designed import blend, image_noise, image_targets, make_designed_run
from manim import ManimColor
from scene_probe import Mob, Shot, probe

from pipeline.run import Run
from scenes import adversarial
from scenes import style as s

pytestmark = pytest.mark.xdist_group("scene-content")

TOTAL, EVERY, WINDOW = 200, 20, 4


def hexc(colour: object) -> str:
    return ManimColor(colour).to_hex().lower()


def frac(step: int) -> float:
    return (step // EVERY) / (TOTAL // EVERY)


def d_real(i: int, n: int) -> float:
    return float(np.float32(0.95 - 0.4 * i / (n - 1)))


def d_fake(i: int, step: int, n: int, fooled: bool = False) -> float:
    score = np.float32(0.05 + 0.4 * i / (n - 1)) * np.float32(0.2 + frac(step))
    return float(np.float32(0.5) + np.float32(0.5) * score) if fooled and step == TOTAL else float(score)


def accuracy(steps: np.ndarray, d_fall: float = 1.0) -> np.ndarray:
    return ((1 - 0.5 * d_fall * steps / TOTAL) + (1 - 0.4 * d_fall * steps / TOTAL)) / 2


def trailing(f, step: int) -> float:  # noqa: ANN001 (a closed form of the step)
    """The mean of ``f`` over the last WINDOW logged steps up to ``step`` (steps start at 1)."""
    steps = np.arange(max(1, step - WINDOW + 1), max(step, 1) + 1)
    return float(np.mean(f(steps)))


def rewrite_scores(run: Path, steps: list[int], change) -> Path:  # noqa: ANN001 (arrays -> arrays)
    """The designed run with D's recorded scores of the snapshots at ``steps`` changed in place by ``change``."""
    for step in steps:
        path = run / "snapshots" / f"step_{step:08d}.npz"
        with np.load(path) as z:
            arrays = {k: z[k] for k in z.files}
        arrays.update(change(arrays))
        np.savez(path, **arrays)
    return run


def fool_d_at_the_end(run: Path) -> Path:
    """At the last snapshot D scores each fake 0.5 plus half its designed score: D calls every fake real (the typical
    one 0.66: a verdict threshold anywhere in (0.5, 0.66) would show)."""
    return rewrite_scores(run, [TOTAL], lambda a: {"d_fake": (np.float32(0.5) + np.float32(0.5) * a["d_fake"])})


#: the toy runs' order of scores: sample i gets the designed score of sample SHUFFLE[i]
SHUFFLE = np.random.default_rng(7).permutation(160)


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> list[Shot]:
    run = fool_d_at_the_end(make_designed_run(tmp_path_factory.mktemp("designed") / "image", "image"))
    return probe(adversarial.CounterfeiterAndPolice, run)


@pytest.fixture(scope="module", params=["toy2d", "toy1d"])
def toy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, list[Shot]]:
    """A 160-sample toy run (more than a bill shows), its scores dealt out in the SHUFFLE order."""
    loss = "lsgan" if request.param == "toy1d" else "bce"  # the formula shown must be the run's own loss
    path = make_designed_run(tmp_path_factory.mktemp("designed") / request.param, request.param, n=160, loss=loss)
    steps = list(range(0, TOTAL + 1, EVERY))
    rewrite_scores(path, steps, lambda a: {k: a[k][SHUFFLE] for k in ("d_real", "d_fake")})
    return Run.load(path), probe(adversarial.CounterfeiterAndPolice, path)


def footer_step(shot: Shot) -> int | None:
    """The step the footer counts (None before the footer is on screen)."""
    found = shot.find("Integer")
    return int(found[0].value) if found else None


def parts(shot: Shot, parent: Mob, kind: str) -> list[Mob]:
    """The visible mobjects of ``kind`` inside ``parent``."""
    return [m for m in shot.find(kind) if m.path[: len(parent.path)] == parent.path and m is not parent]


def lanes(shot: Shot) -> list[tuple[Mob, str, Mob, Mob]]:
    """(bill, 'real' or 'fake', the number of the gauge in its row, its verdict mark) for every judged bill."""
    out = []
    for bill in (m for m in shot.mobs if m.kind == "Bill"):
        frame = next(m for m in shot.mobs if m.path == (*bill.path, 0))
        side = {hexc(s.REAL_COLOR): "real", hexc(s.FAKE_COLOR): "fake"}[frame.stroke]
        row = bill.center[1]
        (gauge,) = [g for g in shot.find("Gauge") if abs(g.center[1] - row) < 0.5]
        (value,) = parts(shot, gauge, "DecimalNumber")
        (mark,) = [m for m in shot.mobs if m.kind in ("Tick", "Cross") and m.visible and abs(m.center[1] - row) < 0.2]
        out.append((bill, side, value, mark))
    return out


def judged(shots: list[Shot]) -> list[Shot]:
    """The shots where D's verdicts are out: gauges settled, marks beside the bills."""
    return [shot for shot in shots if shot.find("Tick") or shot.find("Cross")]


# -- the bills and D's verdicts ---------------------------------------------------------------------------------------
def test_gauges_show_the_designed_scores_of_the_bills_shown(image: list[Shot]) -> None:
    """Each bill is one fixed sample of the snapshot judged (the typical one: D's median score); its gauge shows D's
    recorded score for that very sample; the mark beside it is a tick when the verdict is right (a real bill above
    0.5, a fake below), a cross when it is wrong."""
    n = 16
    real = image_targets(n)[::-1]
    seen = []
    for shot in judged(image):
        step = footer_step(shot)
        fake = blend(image_noise(n), image_targets(n), frac(step))
        shown = lanes(shot)
        assert sorted(side for _, side, _, _ in shown) in (["fake", "real"], ["fake"]), shown
        for bill, side, value, mark in shown:
            (pic,) = parts(shot, bill, "ImageMobject")
            samples = real if side == "real" else fake
            (i,) = [k for k, x in enumerate(samples) if np.array_equal(pic.pixels[..., 0], x[..., 0])]
            want = d_real(i, n) if side == "real" else d_fake(i, step, n, fooled=True)
            scores = [d_real(k, n) if side == "real" else d_fake(k, step, n, fooled=True) for k in range(n)]
            assert i == int(np.argsort(scores, kind="stable")[n // 2]), (step, side, i)  # the median bill
            assert value.value == pytest.approx(want, abs=1e-6), (step, side, i)
            assert mark.kind == ("Tick" if (want > 0.5) == (side == "real") else "Cross"), (step, side, want)
            assert mark.box[0] > bill.box[2] and value.box[0] > mark.box[2]  # beside the bill, never over it
        if not seen or seen[-1] != step:
            seen.append(step)
    assert seen == [0, 20, 100, 200]  # start, D's best moment in the first half, the middle, the end
    # D is right on every typical bill until the end, where the typical fake (0.5 + 0.2633 * 1.2 / 2 = 0.66) fools it
    crosses = {footer_step(shot) for shot in judged(image) for _, side, _, m in lanes(shot) if m.kind == "Cross"}
    assert crosses == {TOTAL}


def test_toy_bills_are_samples_coloured_by_ds_score(toy: tuple[Run, list[Shot]]) -> None:
    """A toy bill shows up to 96 (2-D) or 48 (1-D) fixed samples as dots in one data box (the bounds of the real batch
    and of G's first and last samples, 10 % wider, square), each in the score map's colour of D's recorded score for
    it; the gauge shows their mean."""
    run, shots = toy
    n, kind = 160, run.kind
    dims = 2 if kind == "toy2d" else 1
    pts = np.concatenate([run.real, run.snapshot(0).fake, run.snapshot(TOTAL).fake]).reshape(-1, dims)
    centre, half = (pts.min(0) + pts.max(0)) / 2, (pts.max(0) - pts.min(0)).max() * 0.55
    size = adversarial.BILL_SIZE * 0.8  # the data box on the bill, in scene units
    marks = set()
    for shot in judged(shots):
        step = footer_step(shot)
        for bill, side, value, mark in lanes(shot):
            samples = (run.real if side == "real" else run.snapshot(step).fake).reshape(-1, dims)
            frame = next(m for m in shot.mobs if m.path == (*bill.path, 0))
            dots = parts(shot, bill, "Dot")
            assert len(dots) == (96 if kind == "toy2d" else 48)
            scores = []
            for dot in dots:
                at = centre + (np.subtract(dot.center, frame.center)[:dims] / size) * 2 * half
                dist = np.abs(samples - at).max(1)
                i = int(np.argmin(dist))
                assert dist[i] < 1e-3 * half, (step, side, dist[i])
                score = d_real(SHUFFLE[i], n) if side == "real" else d_fake(SHUFFLE[i], step, n)
                assert dot.fill == s.score_hex(score).lower(), (step, side, i)
                scores.append(score)
            assert len(set(scores)) == len(scores)  # different samples
            want = float(np.mean(scores))
            assert value.value == pytest.approx(want, abs=1e-6), (step, side)
            assert mark.kind == ("Tick" if (want > 0.5) == (side == "real") else "Cross")
            marks.add(mark.kind)
    assert marks == {"Tick"}  # every mean verdict of the designed toys is right (fakes <= 0.54, reals >= 0.55)


def test_the_frozen_network_dims_and_the_learning_one_lights_up(image: list[Shot]) -> None:
    """D's turn (a real and a fake bill judged): G frozen, D learning; G's turn (the gradient back to G): reversed."""
    g_x, d_x = adversarial.SOURCE_X, adversarial.D_POS[0]
    turns = 0
    for shot in image:
        states = {}
        for word in ("frozen", "learning"):
            for m in shot.find("Text", word):
                if m.fill_opacity > 0.5:
                    states["G" if abs(m.center[0] - g_x) < 1.0 else "D" if abs(m.center[0] - d_x) < 1.0 else "?"] = word
        gradient = [m for m in shot.find("ArcBetweenPoints") if m.stroke == hexc(s.GRAD_COLOR)]
        if len(shot.find("Gauge")) == 2 and shot.find("Tick"):
            assert states == {"G": "frozen", "D": "learning"}, (shot.index, states)
            turns += 1
        elif gradient:
            assert states == {"G": "learning", "D": "frozen"}, (shot.index, states)
            assert gradient[0].end[0] < gradient[0].start[0]  # from D's verdict back to G
            turns += 1
    assert turns >= 8


# -- D's accuracy over the run -----------------------------------------------------------------------------------------
def to_data(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step, accuracy) of scene points on the trace."""
    x0, x1, y0, y1 = adversarial.TRACE_BOX
    return (points[:, 0] - x0) / (x1 - x0) * TOTAL, (points[:, 1] - y0) / (y1 - y0)


def test_accuracy_trace_grows_with_the_run_through_the_designed_accuracies(image: list[Shot]) -> None:
    """Faint: D's accuracy at every step; bold: its mean over the last 4 steps; both drawn exactly up to the footer's
    step, with the head's value as a number; the dashed coin-toss line at 0.5."""
    x0, x1, y0, y1 = adversarial.TRACE_BOX
    drawn = []
    for shot in image:
        step = footer_step(shot)
        if step is None or not shot.find("Text", r"How often is D right\?"):
            continue  # before the trace, or after it has made room for the formula
        faint = [m for m in shot.find("VMobject", stroke=hexc(s.D_COLOR)) if m.stroke_width < 2]
        bold = [m for m in shot.find("VMobject", stroke=hexc(s.D_COLOR)) if m.stroke_width > 4]
        if step < 2:
            assert not faint and not bold
            continue
        (faint,), (bold,) = faint, bold
        steps, values = to_data(faint.anchors)
        np.testing.assert_allclose(steps, np.arange(1, step + 1), atol=1e-6)
        np.testing.assert_allclose(values, accuracy(np.arange(1, step + 1)), atol=1e-6)
        steps, values = to_data(bold.anchors)
        np.testing.assert_allclose(steps, np.arange(1, step + 1), atol=1e-6)
        want = [trailing(accuracy, k) for k in range(1, step + 1)]
        np.testing.assert_allclose(values, want, atol=1e-6)
        (head,) = [m for m in shot.find("DecimalNumber") if m.fill == hexc(s.D_COLOR)]
        assert head.value == pytest.approx(100 * want[-1], abs=1e-6)
        drawn.append(step)
    # the footer stops at every snapshot whose bills pass D's desk while the run skips ahead
    assert drawn[-1] == TOTAL and sorted(set(drawn)) == list(range(20, TOTAL + 1, EVERY))
    last = [shot for shot in image if shot.find("Text", r"How often is D right\?")][-1]
    dashes = last.find("DashedLine")
    assert len(dashes) > 10 and all(d.box[1::2] == pytest.approx([(y0 + y1) / 2] * 2) for d in dashes)
    assert (min(d.box[0] for d in dashes), max(d.box[2] for d in dashes)) == pytest.approx((x0, x1))


# -- the acts ----------------------------------------------------------------------------------------------------------
def captions(shots: list[Shot]) -> list[tuple[Shot, Mob]]:
    """(shot, caption) for every shot showing an act's caption ('1 · ...')."""
    return [(shot, m) for shot in shots for m in shot.find("Text", r"\d · .*") if m.fill_opacity > 0.5]


def test_act_captions_say_what_the_designed_numbers_say(image: list[Shot]) -> None:
    """Act 1: D right 99 % over the first 4 steps and 96 % by step 20 (its best in the first half) is no rise of 10
    points; act 2: 96 % at step 20 and 78 % at step 100 is a fall of 10 points or more; act 3: 55 % at the end is
    not the coin toss of the equilibrium (50 +- 3 %). Every number names its step."""

    def pct(step: int) -> int:
        return round(100 * trailing(accuracy, step))

    assert (pct(WINDOW), pct(20), pct(100), pct(TOTAL)) == (99, 96, 78, 55)
    want = [
        "1 · D tells them apart at once: right 96 % by step 20",
        "2 · G catches up: by step 100 D is right 78 %, down from 96 % at step 20",
        "3 · By step 200 D still wins: right 55 % of the time, not the equilibrium",
    ]
    seen = []
    for _, m in captions(image):
        if not seen or seen[-1] != m.text:
            seen.append(m.text)
    assert seen == want


def test_a_caption_agrees_with_the_counter_at_the_step_it_names(image: list[Shot]) -> None:
    """An act's caption appears when the footer reaches the step it speaks of, and the percent it quotes for that step
    is the one the counter beside it shows (the same average of the same quantity); every number in it is
    registered with its step."""
    checked, before = 0, None
    for shot, caption in captions(image):
        if caption.text == before:
            continue  # the caption stays while the run moves on: it names its steps
        before = caption.text
        step = footer_step(shot)
        readings = caption.readings
        assert readings, caption.text
        assert all(rd.step is not None for rd in readings), caption.text  # every number names its step
        numbers = re.findall(r"\d[\d,]*", caption.text.split(" · ", 1)[1])
        assert sorted(numbers) == sorted(rd.shown for rd in readings), caption.text
        (counter,) = [m for m in shot.find("DecimalNumber") if m.fill == hexc(s.D_COLOR)]
        now = [rd for rd in readings if rd.quantity == "metric:accuracy" and rd.step == step]
        assert now, (caption.text, step)  # the caption speaks of the footer's step
        for rd in now:
            assert rd.average == WINDOW and rd.shown == counter.text, (caption.text, counter.text)
            assert rd.shown == f"{100 * trailing(accuracy, step):.0f}"
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("d_fall", "caption"),
    [
        (1 / 0.9, "By step 200 D can only guess: right 50 % of the time, the equilibrium"),  # 1 - 0.5 * 0.9925
        (0.03 / 0.45, "By step 200 D still wins: right 97 % of the time, not the equilibrium"),  # 1 - 0.03 * 0.9925
        (1.0, "By step 200 D still wins: right 55 % of the time, not the equilibrium"),
        (1.2 / 0.9, "By step 200 D is fooled more often than not: right only 40 %"),  # 1 - 0.6 * 0.9925 = 40.5 %
    ],
)
def test_the_end_is_the_equilibrium_only_near_50_percent(d_fall: float, caption: str, tmp_path: Path) -> None:
    run = Run.load(make_designed_run(tmp_path / "run", "image", d_fall=d_fall))
    acts = adversarial.story(run)
    assert [a.number for a in acts] == [1, 2, 3]
    assert acts[-1].caption == caption and acts[-1].steps == (TOTAL,)


def without_accuracy(run: Path) -> Path:
    """The run as a loop that handed no accuracy to the Recorder records it: acc_real and acc_fake null throughout."""
    f = run / "metrics.jsonl"
    rows = [json.loads(line) for line in f.read_text().splitlines()]
    f.write_text("".join(json.dumps({**row, "acc_real": None, "acc_fake": None}) + "\n" for row in rows))
    return run


def snapshot_accuracy(step: int, n: int = 16) -> float:
    """D's designed accuracy on the fixed batches at the snapshot at ``step``: every real score is above 0.5; a fake's
    is at or below 0.5 unless (0.05 + 0.4 i / (n - 1)) (0.2 + a) passes it."""
    fakes = [d_fake(i, step, n) for i in range(n)]
    return (1.0 + sum(f <= 0.5 for f in fakes) / n) / 2


def test_a_run_without_accuracy_draws_it_from_the_snapshot_scores_and_says_so(tmp_path: Path) -> None:
    """A recorded loop that handed over no accuracy: the counter, the trace and the captions show D's accuracy on the
    fixed batches at each snapshot, from the scores the snapshots hold, and the screen says where it comes from."""
    path = without_accuracy(make_designed_run(tmp_path / "run", "image"))
    run = Run.load(path)
    assert adversarial.CounterfeiterAndPolice.cannot_draw(run) is None
    acc = adversarial.Accuracy(run)
    assert acc.derived and acc.quantity == "snapshot:accuracy" and acc.window == 1
    assert list(acc.steps) == list(range(0, TOTAL + 1, EVERY))
    np.testing.assert_allclose(acc.values, [snapshot_accuracy(t) for t in acc.steps])
    assert snapshot_accuracy(TOTAL) < snapshot_accuracy(0) == 1.0  # the designed fakes fool D more by the end
    shots = probe(adversarial.CounterfeiterAndPolice, path)
    said = " ".join(" ".join(shot.texts()) for shot in shots)
    assert " ".join(adversarial.DERIVED) in said and adversarial.DERIVED_NOTE in said  # below the axis, by the counter
    counters = [
        (shot, m)
        for shot in shots
        for m in shot.find("DecimalNumber")
        if any(r.quantity == "snapshot:accuracy" for r in m.readings)
    ]
    assert counters
    for shot, m in counters:
        step = footer_step(shot)
        latest = max(t for t in acc.steps if t <= step)
        assert m.text == f"{100 * snapshot_accuracy(latest):.0f}", (shot.time, step, m.text)
    captions = [
        r for shot in shots for m in shot.mobs for r in m.readings if r.quantity == "snapshot:accuracy" and r.shown
    ]
    assert captions and all(r.shown == f"{100 * snapshot_accuracy(r.step):.0f}" for r in captions)


def test_a_run_with_neither_accuracy_nor_snapshot_scores_is_refused_in_one_line(tmp_path: Path) -> None:
    path = without_accuracy(make_designed_run(tmp_path / "run", "image", drop=("d_real", "d_fake")))
    reason = adversarial.CounterfeiterAndPolice.cannot_draw(Run.load(path))
    assert reason is not None and "\n" not in reason
    assert "recorded neither acc_real and acc_fake nor D's scores" in reason
    with pytest.raises(adversarial.RunError, match=r"no snapshot holds D's scores"):
        adversarial.Accuracy(Run.load(path))


# -- skipping ahead ----------------------------------------------------------------------------------------------------
def test_skipping_ahead_shows_each_snapshots_bills_at_full_size_while_the_footer_shows_its_step(
    image: list[Shot],
) -> None:
    """While the run skips ahead, the bills on D's desk are those of the snapshot the footer shows (the typical fake:
    D's median score), as large as the judged ones."""
    n = 16
    passed = []
    for shot in image:
        bills = [m for m in shot.mobs if m.kind == "Bill"]
        if not bills or shot.find("Text", r"G\(z\) · .*"):
            continue  # no bills, or the bills of a judged round (tagged)
        step = footer_step(shot)
        assert len(bills) == 2
        for bill in bills:
            assert bill.width == pytest.approx(adversarial.BILL_SIZE, abs=0.05)  # full size, not a thumbnail
        fake = next(b for b in bills if b.center[1] > 0)
        (pic,) = parts(shot, fake, "ImageMobject")
        samples = blend(image_noise(n), image_targets(n), frac(step))
        scores = [d_fake(k, step, n, fooled=True) for k in range(n)]
        i = int(np.argsort(scores, kind="stable")[n // 2])
        assert np.array_equal(pic.pixels[..., 0], samples[i][..., 0]), step
        passed.append(step)
    assert passed == list(range(20, TOTAL + 1, EVERY)), passed


# -- the game ----------------------------------------------------------------------------------------------------------
TINT = re.compile(r'text\(fill: #rgb\("(#[0-9A-Fa-f]{6})"\), (G\(z\)|[^()]+)\)')


def tinted(code: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for col, what in TINT.findall(code):
        found.setdefault(hexc(col), []).append(what)
    return found


def test_the_formula_is_the_runs_own_loss_each_term_in_the_colour_of_its_object(image: list[Shot]) -> None:
    """A bce run shows the non-saturating game: D's line (log D(x) + log(1 - D(G(z)))) and G's own (log D(G(z)),
    maximised), not the minimax formula; D in D's colour, G in G's, x as real bills, z and G(z) as generated ones."""
    formulas = image[-1].find("MathTypst")
    assert len(formulas) == 2
    d_line, g_line = sorted(formulas, key=lambda m: -m.center[1])
    want = [code for _, code in adversarial.objective("bce")[0]]
    assert want[0] in d_line.text and want[1] in g_line.text
    assert tinted(d_line.text + " " + g_line.text) == {
        hexc(s.D_COLOR): ["D", "D", "D", "D"],
        hexc(s.REAL_COLOR): ["x", "x"],
        hexc(s.FAKE_COLOR): ["z", "G(z)", "z", "G(z)"],
        hexc(s.G_COLOR): ["G"],
    }
    rest = TINT.sub("", d_line.text + " " + g_line.text)
    assert not re.search(r"\b[DGxz]\b", rest), rest  # every D, G, x and z is coloured
    assert "max_" in g_line.text and "log" in g_line.text and "1 -" not in g_line.text  # G maximises log D(G(z))
    assert "min_" not in d_line.text + g_line.text  # not the minimax game
    for line, who in ((d_line, "D"), (g_line, "G")):  # each line says whose objective it is, in front of it
        assert [
            m
            for m in image[-1].find("Text", who)
            if abs(m.center[1] - line.center[1]) < 0.2 and line.box[0] - 0.6 < m.box[2] < line.box[0]
        ], who


def test_an_lsgan_run_shows_the_least_squares_objective(toy: tuple[Run, list[Shot]]) -> None:
    """The 1-D toy here is an LSGAN run: its closing formula is least squares, never the log-loss game."""
    run, shots = toy
    code = " ".join(m.text for m in shots[-1].find("MathTypst"))
    if run.config.get("loss") == "lsgan":
        assert "^2" in code and "log" not in code and "1/2" in code
    else:
        assert "log" in code and "^2" not in code


@pytest.mark.parametrize("loss", sorted(adversarial.OBJECTIVES))
def test_each_loss_has_its_own_objective(loss: str) -> None:
    """minimax: one game, min over G of max over D; the others: D's and G's own lines, as gan_train/losses.py computes
    them (least squares: squares against the targets; hinge: max(0, 1 -+ D); Wasserstein: the critic's difference and
    the gradient penalty)."""
    lines, words = adversarial.objective(loss, 0.9)
    code = " ".join(c for _, c in lines)
    who = [w for w, _ in lines]
    marks = {
        "minimax": ("min_", "max_", "log(1 - "),
        "bce": ("log", "log(1 - "),
        "lsgan": ("^2", "- 0.9)^2", "1/2"),
        "hinge": ("max(0, 1 - ", "max(0, 1 + "),
        "wgan-gp": ("nabla", "lambda", "norm("),
    }[loss]
    assert all(m in code for m in marks), (loss, code)
    assert who == (["G and D"] if loss == "minimax" else ["D", "G"])
    assert words


def test_numbers_show_the_digits_of_their_value() -> None:
    """``style.show_value`` keeps the digits when they would not change and rebuilds them when they do: the gauge,
    the footer and the trace's readout show what they hold."""

    def digits(m: object) -> str:
        return "".join(part.original_text for part in m.submobjects)

    gauge = s.number(0.5, 2)
    s.show_value(gauge, 0.5012)
    assert (digits(gauge), gauge.get_value()) == ("0.50", 0.5012)
    s.show_value(gauge, 0.77)
    assert (digits(gauge), gauge.get_value()) == ("0.77", 0.77)
    count = s.integer(0)
    s.show_value(count, 1200)
    assert digits(count) == "1,200" and count.get_value() == 1200
