"""GradientFlow on designed runs: what each part shows, read from the scene graph (tests/scene_probe.py).

The designed image run (tests/designed.py) is dcgan-digits at ngf = ndf = 8 with 11 snapshots (step 20k at learning
fraction a = k / 10): G's layers record gradient norms 10^-3 ... 10^0 (five, evenly spaced in log) times (1 + a),
D's four the same reversed, and a compared minimax run the same with G's times 1e-3 (metrics.jsonl: G's whole norm
0.5 + 2 t, D's 3 - 1.5 t, G's times 1e-3 in the minimax run). Every expected value below is computed here from those
closed forms; bars are read against the powers of ten drawn on their axis.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from designed import image_noise, image_targets, make_designed_run
from scene_probe import Mob, Shot, probe
from test_scene_layout import problems

from pipeline.run import RunWarning
from pipeline.runformat import RUN_JSON
from scenes import common as c
from scenes import gradient_flow, style

pytestmark = pytest.mark.xdist_group("scene-content")

TOTAL, EVERY = 200, 20
SHOWN = [0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200]  # spread_steps(11) of 11 snapshots: all of them
G_SHAPES = [(16, 7, 7), (16, 7, 7), (8, 14, 14), (8, 14, 14), (1, 28, 28)]  # dcgan-digits, ngf = 8
D_SHAPES = [(8, 14, 14), (16, 7, 7), (16, 7, 7), (1, 1, 1)]


def norms(step: int, scale: float = 1.0) -> np.ndarray:
    """G's then D's designed gradient norms at a snapshot step (G's times ``scale``)."""
    a = step / TOTAL
    g = 10.0 ** np.linspace(-3, 0, 5) * (1 + a) * scale
    d = (10.0 ** np.linspace(-3, 0, 4) * (1 + a))[::-1]
    return np.concatenate([g, d])


@pytest.fixture(scope="module")
def minimax(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_designed_run(tmp_path_factory.mktemp("flow") / "minimax", "image", loss="minimax", grad_scale=1e-3)


@pytest.fixture(scope="module")
def single(designed_image: Path) -> list[Shot]:
    return probe(gradient_flow.GradientFlow, designed_image)


@pytest.fixture(scope="module")
def compared(designed_image: Path, minimax: Path) -> list[Shot]:
    return probe(gradient_flow.GradientFlow, designed_image, compare=minimax)


def rows(shot: Shot) -> list[list[Mob]]:
    """The layer blocks on screen, one list per row (top row first), each in forward order (left to right)."""
    blocks = shot.find(name="layer")
    ys = sorted({round(b.center[1], 3) for b in blocks}, reverse=True)
    return [sorted((b for b in blocks if round(b.center[1], 3) == y), key=lambda b: b.center[0]) for y in ys]


def step_of(shot: Shot) -> int:
    (counter,) = shot.find("Integer")
    return int(counter.value)


def bars(shot: Shot) -> list[list[Mob]]:
    """The gradient bars on screen, one list per row (top row first), each left to right (G's layers, then D's)."""
    found = shot.find(name="gradient bar")
    ys = sorted({round(b.box[1], 3) for b in found}, reverse=True)  # a row's bars stand on one baseline
    return [sorted((b for b in found if round(b.box[1], 3) == y), key=lambda b: b.center[0]) for y in ys]


def decades(shot: Shot) -> list[dict[int, float]]:
    """Each row's axis as drawn: the height of every power of ten labelled on it (top row first)."""
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    ticks = [t for t in shot.find("Text") if re.fullmatch("10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+", t.text or "")]
    rows_: list[dict[int, float]] = []
    for t in sorted(ticks, key=lambda t: -t.center[1]):
        k = int(t.text[2:].translate(sup))
        if not rows_ or k in rows_[-1]:
            rows_.append({})
        rows_[-1][k] = t.center[1]
    return rows_


def height_on(axis: dict[int, float], value: float) -> float:
    """Where ``value`` sits on an axis drawn with these powers of ten (linear in log10)."""
    ks = sorted(axis)
    slope = (axis[ks[-1]] - axis[ks[0]]) / (ks[-1] - ks[0])
    return axis[ks[0]] + slope * (np.log10(value) - ks[0])


def updates(shots: list[Shot]) -> list[Shot]:
    """The shot at the end of each shown update (the footer at a new snapshot, every bar drawn)."""
    out, seen = [], set()
    for shot in shots:
        found = bars(shot)
        if found and all(len(r) == 9 for r in found) and step_of(shot) not in seen and step_of(shot) > 0:
            seen.add(step_of(shot))
            out.append(shot)
    return out


def test_each_bar_is_its_layers_designed_norm_on_the_log_axis_with_its_number(single: list[Shot]) -> None:
    """At each shown update every layer's bar rises from one baseline to its designed norm's height on the axis'
    powers of ten (its length proportional to log norm), and the number under it prints that norm to two
    significant digits."""
    shown = updates(single)
    assert [step_of(s) for s in shown] == SHOWN[1:]
    assert not single[3].find(name="gradient bar")  # nothing before the first update: no gradient at step 0
    for shot in shown:
        (row,) = bars(shot)
        (axis,) = decades(shot)
        assert len(axis) >= 3
        want = norms(step_of(shot))
        for bar, v in zip(row, want, strict=True):
            assert bar.box[1] == pytest.approx(row[0].box[1], abs=1e-9)  # one baseline
            assert bar.box[3] == pytest.approx(height_on(axis, v), abs=2e-3), (step_of(shot), v)
        lengths = np.array([b.height for b in row])
        slope = np.polyfit(np.log10(want), lengths, 1)[0]  # length = a + b log10(norm), exactly
        np.testing.assert_allclose(lengths, lengths[0] + slope * np.log10(want / want[0]), atol=2e-3)
        numbers = [m for m in shot.find("DecimalNumber") if m.box[3] < row[0].box[1]]
        assert len(numbers) == 9
        for bar, v in zip(row, want, strict=True):
            (number,) = [m for m in numbers if abs(m.center[0] - bar.center[0]) < 1e-6]
            assert number.text == gradient_flow.printed(float(np.float32(v))), (step_of(shot), v)


def test_compared_rows_share_one_scale_and_minimax_g_is_three_decades_shorter(compared: list[Shot]) -> None:
    """Both rows' axes give a decade the same height; the bce row's bars and the minimax row's D bars are as
    designed, the minimax row's G bars exactly three decades shorter."""
    shown = updates(compared)
    assert [step_of(s) for s in shown] == SHOWN[1:]
    for shot in shown:
        top, bottom = bars(shot)
        axes = decades(shot)
        assert len(axes) == 2
        per = [(a[max(a)] - a[min(a)]) / (max(a) - min(a)) for a in axes]
        assert per[0] == pytest.approx(per[1], abs=1e-9)
        step = step_of(shot)
        for bar, v in zip(top, norms(step), strict=True):
            assert bar.box[3] == pytest.approx(height_on(axes[0], v), abs=2e-3)
        for bar, v in zip(bottom, norms(step, scale=1e-3)[:5].tolist() + norms(step)[5:].tolist(), strict=True):
            assert bar.box[3] == pytest.approx(height_on(axes[1], v), abs=2e-3)
        for a, b in zip(top[:5], bottom[:5], strict=True):
            assert a.height - b.height == pytest.approx(3 * per[0], abs=2e-3)
        for a, b in zip(top[5:], bottom[5:], strict=True):
            assert a.height == pytest.approx(b.height, abs=1e-6)


def test_layers_are_sized_by_their_designed_shapes_and_named(single: list[Shot]) -> None:
    """Height = H (0.22 + 0.78 log v / log v_max) for activation volume v, H the tallest block's; BatchNorm layers
    are thin slabs; the shapes and kinds are written at each block."""
    end = single[-1]
    (blocks,) = rows(end)
    vols = [float(np.prod(s)) for s in G_SHAPES + D_SHAPES]
    tallest = max(b.height for b in blocks)
    for b, v in zip(blocks, vols, strict=True):
        assert b.height == pytest.approx(tallest * (0.22 + 0.78 * np.log10(v) / np.log10(max(vols))), abs=1e-6)
    kinds = ["ConvT", "BN", "ConvT", "BN", "ConvT", "Conv", "Conv", "BN", "Conv"]
    slabs = [k == "BN" for k in kinds]
    assert [b.width < 0.3 for b in blocks] == slabs
    texts = end.find("Text")

    def under(block: Mob, pattern: str, above: bool = False) -> bool:
        return any(
            re.fullmatch(pattern, t.text or "")
            and abs(t.center[0] - block.center[0]) < 1e-6
            and ((t.box[1] > block.box[3]) if above else (t.box[3] < block.box[1]))
            for t in texts
        )

    for b, kind in zip(blocks, kinds, strict=True):
        assert under(b, kind, above=True), kind
    shapes = G_SHAPES + D_SHAPES
    for b, shape, slab in zip(blocks, shapes, slabs, strict=True):
        if slab:
            continue
        if shape[1] * shape[2] > 1:
            assert under(b, f"{shape[1]}×{shape[2]}") and under(b, f"{shape[0]} ch"), shape
        else:
            assert under(b, str(int(np.prod(shape)))), shape


def test_g_output_between_g_and_d_is_that_snapshots_samples(single: list[Shot]) -> None:
    """The view between G's last layer and D's first shows the shown snapshot's first nine samples (the designed
    blend of noise and bar pictures at a = step / 200); the fixed real batch's first nine sit above it."""
    real = c.sample_grid(image_targets(16)[::-1], 9)
    checked = set()
    for shot in single[2:]:
        views = shot.find("ImageMobject", name="generated")
        if len(views) != 1:  # a new snapshot's samples fading in over the last ones
            continue
        step, a = step_of(shot), step_of(shot) / TOTAL
        want = np.round((1 - a) * image_noise(16).astype(float) + a * image_targets(16).astype(float)).astype(np.uint8)
        assert np.array_equal(views[0].pixels, c.sample_grid(want, 9)), step
        (shown_real,) = shot.find("ImageMobject", name="real")
        assert np.array_equal(shown_real.pixels, real)
        (blocks,) = rows(shot)
        assert blocks[4].box[2] < views[0].box[0] and views[0].box[2] < blocks[5].box[0]  # between G and D
        assert shown_real.box[1] > views[0].box[3]
        checked.add(step)
    assert sorted(checked) == SHOWN


def test_score_and_closing_line_follow_the_designed_run(single: list[Shot]) -> None:
    """D(G(z)) is the snapshot's mean designed score 0.25 (0.2 + a), shown once the forward pass reaches D; the
    closing line gives the median over the run of metrics.jsonl's whole-network norms, G's 0.5 + 2 t and D's
    3 - 1.5 t, to three significant digits."""
    scores = [(step_of(s), s.find("DecimalNumber")) for s in single]
    shown = [(step, [m for m in found if m.box[1] > 0]) for step, found in scores]  # the score sits on the block row
    values = [(step, m[0].value) for step, m in shown if m]
    assert len(values) >= len(SHOWN)
    for step, value in values:
        assert value == pytest.approx(0.25 * (0.2 + step / TOTAL), abs=1e-6), step
    g, d = (np.median(f(np.arange(1, TOTAL + 1) / TOTAL)) for f in (lambda t: 0.5 + 2 * t, lambda t: 3 - 1.5 * t))
    (line,) = [t for t in single[-1].texts() if t.startswith("median gradient norm over the run")]
    found = re.fullmatch(r"median gradient norm over the run: all of G ([\d.]+), all of D ([\d.]+)", line)
    assert found, line
    assert [len(v.replace(".", "").lstrip("0")) for v in found.groups()] == [3, 3]  # three significant digits
    assert float(found.group(1)) == pytest.approx(g, abs=0.005) and float(found.group(2)) == pytest.approx(d, abs=0.005)


def test_compare_ends_on_the_ratio_of_the_medians_it_shows(compared: list[Shot]) -> None:
    """Each row is titled by its loss in words (the scene's run on top) and ends with G's median gradient norm of
    metrics.jsonl (0.5 + 2 t: about 1.5 for bce, 1000 times less for minimax); the headline's ratio is the ratio of
    the two medians shown."""
    end = compared[-1].texts()
    titles = [t for t in end if t in ("non-saturating loss", "minimax loss")]
    assert titles == ["non-saturating loss", "minimax loss"]
    medians = [re.fullmatch(r"G's gradient norm, median over the run: ([\d.,]+)", t) for t in end]
    shown = [float(m.group(1).replace(",", "")) for m in medians if m]
    bce = np.median(0.5 + 2 * np.arange(1, TOTAL + 1) / TOTAL)
    np.testing.assert_allclose(shown, [bce, bce * 1e-3], rtol=0.005)  # three significant digits
    (headline,) = [t for t in end if "weaker" in t]
    ratio = float(re.search(r"([\d.,]+)× weaker", headline).group(1).replace(",", ""))
    assert f"{shown[0] / shown[1]:,.0f}" == f"{ratio:,.0f}"  # the ratio of the numbers shown, as printed
    assert headline.startswith(f"with minimax loss, G's gradient is {ratio:,.0f}× weaker")


def test_each_rows_titles_and_bars_are_its_own(compared: list[Shot]) -> None:
    """A row's title, kinds, bars and numbers lie between the rule that separates the rows and the row's edge:
    nothing of the lower row sits under the upper row's labels."""
    end = compared[-1]
    (rule,) = [m for m in end.find("Line") if m.width > 12]
    y = rule.center[1]
    top, bottom = bars(end)
    assert all(b.box[1] > y for b in top) and all(b.box[3] < y for b in bottom)
    (t1,) = end.find("Text", "non-saturating loss")
    (t2,) = end.find("Text", "minimax loss")
    assert t1.box[1] > y > t2.box[3] > max(b.box[3] for b in bottom)
    numbers = [m for m in end.find("DecimalNumber") if m.box[3] < min(b.box[1] for b in top) and m.box[1] > y]
    assert len(numbers) == 9


def test_axis_ticks_are_powers_of_ten_in_place(single: list[Shot]) -> None:
    """The axis is labelled at powers of ten, evenly spaced: equal steps in log norm are equal lengths."""
    (axis,) = decades(single[-1])
    ks = sorted(axis)
    assert ks == list(range(ks[0], ks[-1] + 1)) and len(ks) >= 3
    gaps = np.diff([axis[k] for k in ks])
    np.testing.assert_allclose(gaps, gaps[0], atol=1e-6)


def test_runs_without_layer_shapes_render_with_equal_layers_and_say_so(tmp_path: Path) -> None:
    old = make_designed_run(
        tmp_path / "old",
        "image",
        drop=(RUN_JSON.layer_shapes_g, RUN_JSON.layer_shapes_d, RUN_JSON.layer_types_g, RUN_JSON.layer_types_d),
    )
    shots = probe(gradient_flow.GradientFlow, old)
    (blocks,) = rows(shots[-1])
    assert len(blocks) == 9 and len({round(b.height, 6) for b in blocks}) == 1
    assert any("this run did not record its layer shapes: sizes not to scale" in s.texts() for s in shots)


@pytest.mark.parametrize("kind", ["image", "toy2d", "toy1d"])
def test_one_run_is_laid_out(kind: str, tmp_path: Path, designed_image: Path) -> None:
    """tests/test_scene_layout.py lays the scene out with --compare; this is the one-run layout."""
    run = designed_image if kind == "image" else make_designed_run(tmp_path / kind, kind, n=64)
    found = problems(probe(gradient_flow.GradientFlow, run))
    assert not found, "\n".join(found[:10])


def test_a_damaged_snapshot_is_left_out(tmp_path: Path) -> None:
    run = make_designed_run(tmp_path / "r", "image")
    (run / "snapshots" / "step_00000100.npz").write_bytes(b"PK not a zip")
    with pytest.warns(RunWarning, match="step_00000100"):
        shots = probe(gradient_flow.GradientFlow, run)
    assert 100 not in {step_of(s) for s in shots}


def test_video_wave_reaches_ds_output_layer_before_gs_first(
    designed_image: Path, single: list[Shot], tmp_path: Path
) -> None:
    """In the rendered video, half way through the first update (the wave runs from D's output back to z), D's last
    layer's bar already stands and G's first layer's bar is not there yet; at its end both stand."""
    import av

    from pipeline.render import builtin_scene_path, render_file
    from pipeline.run import Run

    kw = {"fmt": "mp4", "out": tmp_path, "progress": False, "pixel_width": 640, "frame_rate": 10}
    (mp4,) = render_file(builtin_scene_path("gradient_flow"), Run.load(designed_image), **kw)
    with av.open(str(mp4)) as box:
        stream = box.streams.video[0]
        frames = [(float(f.pts * stream.time_base), f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    first = updates(single)[0]
    end, start = first.time, first.time - 1.8  # the update's play
    (row,) = bars(first)

    def colour(t: float, bar: Mob) -> np.ndarray:
        _, img = min(frames, key=lambda f: abs(f[0] - t))
        h, w = img.shape[:2]
        x, y = bar.center  # where the bar stands at the update's end
        return img[int(round((4 - y) / 8 * h)), int(round((x + 4 * w / h) / (8 * w / h) * w))].astype(int)

    empty = np.array([int(style.BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)])
    first_g, last_d = row[0], row[-1]
    assert np.abs(colour(start + 0.9, last_d) - empty).max() > 60  # D's output layer: reached first
    assert np.abs(colour(start + 0.9, first_g) - empty).max() < 20  # G's first layer: not reached yet
    assert np.abs(colour(end, first_g) - empty).max() > 60


@pytest.mark.parametrize("compare", [False, True])
def test_networks_with_more_layers_are_named_as_room_allows(compare: bool, tmp_path: Path) -> None:
    """dcgan-cifar (13 layers) names only its layers with weights, each over it and its BatchNorm; dcgan-celeba
    (17) names none and says so; both laid out by the rules, alone and compared."""
    for variant, kinds in (("dcgan-cifar", ["ConvT"] * 4 + ["Conv"] * 4), ("dcgan-celeba", [])):
        run = make_designed_run(tmp_path / variant, "image", variant=variant)
        shots = probe(gradient_flow.GradientFlow, run, compare=run if compare else None)
        found = problems(shots)
        assert not found, f"{variant}: " + "\n".join(found[:10])
        end = shots[-1]
        blocks = rows(end)[0]
        kinds_shown = [t for t in end.find("Text") if t.text in ("ConvT", "Conv", "BN")]
        named = sorted((t for t in kinds_shown if t.box[1] > blocks[0].box[1]), key=lambda t: t.center[0])  # top row
        assert len(kinds_shown) == len(named) * (2 if compare else 1), variant  # each row names its own
        assert [t.text for t in named] == kinds, variant
        note = f"{len(blocks)} layers: too many to name here (see run.json)"
        assert any(note in s.texts() for s in shots) == (not kinds), variant
        if kinds:  # a ConvT's name centred over it and the BatchNorm after it
            assert named[0].center[0] == pytest.approx((blocks[0].box[0] + blocks[1].box[2]) / 2, abs=1e-6)


def test_the_compared_headline_beat_dims_d(compared: list[Shot], single: list[Shot]) -> None:
    """One idea per frame: the headline is about G's gradient, so when it comes D's bars and numbers, its score
    and the samples recede (to style.DIM) while G's bars and numbers stay at full strength. One run alone ends on
    G's and D's medians both: nothing recedes."""
    end = compared[-1]
    n_g = sum(b.stroke == style.G_COLOR.lower() for b in rows(end)[0])
    assert 0 < n_g < len(rows(end)[0])
    for row in bars(end):
        g, d = row[:n_g], row[n_g:]
        assert all(b.fill_opacity > 0.85 for b in g) and all(b.fill_opacity < 0.9 * style.DIM + 1e-3 for b in d)
    numbers = [m for m in end.find("DecimalNumber") if m.readings and "grad_norm" in str(m.readings[0])]
    assert numbers and all((m.fill_opacity > 0.99) == ("grad_norm_g" in str(m.readings[0])) for m in numbers), [
        (m.text, m.fill_opacity) for m in numbers
    ]
    samples = [m for m in end.find("ImageMobject") if m.name in ("generated", "real")]
    assert samples and all(m.fill_opacity < style.DIM + 1e-3 for m in samples), [m.fill_opacity for m in samples]
    assert all(b.fill_opacity > 0.85 for row in bars(single[-1]) for b in row if b.height > 1e-3)
