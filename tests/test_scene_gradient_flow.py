"""GradientFlow on designed runs: what each part shows, read from the scene graph (tests/scene_probe.py).

The designed image run (tests/designed.py) is dcgan-digits at ngf = ndf = 8 with 11 snapshots (step 20k at learning
fraction a = k / 10): G's layers record gradient norms 10^-3 ... 10^0 (five, evenly spaced in log) times (1 + a),
D's four the same reversed, and a compared minimax run the same with G's times 1e-3. Every expected value below is
computed here from those closed forms.
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


def ramp(t: float) -> str:
    """The gradient colour map of scenes/style.py (its declared stops), interpolated here."""
    stops = [(np.array([int(h[i : i + 2], 16) for i in (1, 3, 5)], float), p) for h, p in style.GRAD_STOPS]
    rgb = [np.interp(t, [p for _, p in stops], [c[i] for c, _ in stops]) for i in range(3)]
    return "#" + "".join(f"{int(round(v)):02x}" for v in rgb)


def expected_colours(step: int, lo: float, hi: float, scale: float = 1.0) -> list[str]:
    return [ramp((np.log10(v) - lo) / (hi - lo)) for v in norms(step, scale)]


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


def colour_changes(shots: list[Shot], row: int) -> list[tuple[int, list[str]]]:
    """(footer step, the row's block fills) at every call that changed the fills."""
    seen: list[tuple[int, list[str]]] = []
    for shot in shots:
        found = rows(shot)
        if len(found) > row:
            fills = [b.fill for b in found[row]]
            if not seen or seen[-1][1] != fills:
                seen.append((step_of(shot), fills))
    return seen


def test_each_layer_is_filled_by_its_designed_norm_at_every_update(single: list[Shot]) -> None:
    """Before any update the layers are the 'no gradient' grey; at each shown update, once the pulse has passed,
    each layer's fill is its designed norm on the run's log scale (from the smallest norm recorded, G's first layer
    at step 20, to the largest, G's last and D's first at step 200)."""
    lo, hi = np.log10(1e-3 * 1.1), np.log10(1.0 * 2)
    seen = colour_changes(single, 0)
    assert seen[0] == (0, [style.NO_GRAD_COLOR.lower()] * 9)
    assert [step for step, _ in seen[1:]] == SHOWN[1:]
    for step, fills in seen[1:]:
        assert fills == expected_colours(step, lo, hi), step


def test_compared_minimax_g_is_darker_by_exactly_its_factor(compared: list[Shot]) -> None:
    """Both rows share one scale, from the minimax run's smallest G norm (1.1e-6) to 2: the bce row's layers and
    the minimax row's D layers are as designed, the minimax row's G layers three decades lower on it."""
    lo, hi = np.log10(1.1e-6), np.log10(2.0)
    top, bottom = colour_changes(compared, 0), colour_changes(compared, 1)
    assert [s for s, _ in top[1:]] == [s for s, _ in bottom[1:]] == SHOWN[1:]
    for (step, bce), (_, mm) in zip(top[1:], bottom[1:], strict=True):
        assert bce == expected_colours(step, lo, hi), step
        assert mm == expected_colours(step, lo, hi, scale=1e-3), step
        assert mm[5:] == bce[5:] and all(lum(m) < lum(b) for m, b in zip(mm[:5], bce[:5], strict=True))


def lum(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


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


def test_a_pulse_travels_back_to_z_at_every_update(single: list[Shot]) -> None:
    """After each update's pulse the pulse stands at z (the wire's end), in the colour of G's first layer."""
    pulses = [
        (step_of(s), s) for s in single if s.find(name="pulse") and rows(s)[0][0].fill != style.NO_GRAD_COLOR.lower()
    ]
    assert [step for step, _ in pulses] == SHOWN[1:]
    for _, shot in pulses:
        (pulse,) = shot.find(name="pulse")
        (z,) = shot.find("ImageMobject", name="noise")
        assert pulse.center == pytest.approx((z.box[2], z.center[1]), abs=1e-6)  # z's right edge: the wire's end
        assert pulse.fill == rows(shot)[0][0].fill


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


def test_score_sparklines_and_verdict_follow_the_designed_run(single: list[Shot]) -> None:
    """D(G(z)) is the snapshot's mean designed score 0.25 (0.2 + a); each sparkline's corners sit at its layer's
    norms on the log scale; each cursor is on its sparkline at the footer's step; the closing line compares G's
    and D's layers by geometric mean (both 10^-1.5 times 2 at the end: about the same)."""
    lo, hi = np.log10(1.1e-3), np.log10(2.0)
    scores = [(step_of(s), s.find("DecimalNumber")[0].value) for s in single if s.find("DecimalNumber")]
    after_forward = [(step, v) for step, v in scores if v != 0.0]  # 0 until the forward pass reaches D
    assert len(after_forward) >= 2 * len(SHOWN)
    for step, value in after_forward:
        assert value == pytest.approx(0.25 * (0.2 + step / TOTAL), abs=0.005 + 1e-9), step
    end = single[-1]
    lines = sorted(end.find(name="sparkline"), key=lambda m: m.center[0])
    cursors = sorted(end.find(name="cursor"), key=lambda m: m.center[0])
    assert len(lines) == len(cursors) == 9
    want = np.array([(np.log10(norms(s)) - lo) / (hi - lo) for s in SHOWN[1:]]).T  # (layers, steps)
    corners = [np.concatenate([line.points[::4], line.points[-1:]]) for line in lines]
    # one band for all: y = y0 + h * position, found from the first layer's line and held by every other
    h = np.ptp(corners[0][:, 1]) / np.ptp(want[0])
    y0 = corners[0][0, 1] - h * want[0][0]
    for k, (pts, cursor) in enumerate(zip(corners, cursors, strict=True)):
        np.testing.assert_allclose(pts[:, 1], y0 + h * want[k], atol=1e-6, err_msg=f"layer {k}")
        dx = (pts[:, 0] - pts[0, 0]) / (pts[-1, 0] - pts[0, 0])
        np.testing.assert_allclose(dx, (np.array(SHOWN[1:]) - 20) / 180, atol=1e-9)  # x in proportion to step
        assert cursor.center == pytest.approx(tuple(pts[-1]), abs=1e-6)  # the footer is at step 200: the last
    assert "step 200: G's layers get about as much gradient as D's" in end.texts()


def test_compare_ends_on_the_designed_ratio(compared: list[Shot]) -> None:
    """Median G gradient norm of metrics.jsonl: 0.5 + 2 t for bce, 1000 times less for minimax."""
    assert "with minimax, G's gradient is 1,000× weaker (median over the run)" in compared[-1].texts()
    labels = [t for t in compared[-1].texts() if t in ("bce", "minimax")]
    assert labels == ["bce", "minimax"]


def test_colour_bar_ticks_are_powers_of_ten_in_place(compared: list[Shot]) -> None:
    """Tick labels 10^k at their place on the bar: x linear in k, the bar's ends at 10^lo and 10^hi."""
    lo, hi = np.log10(1.1e-6), np.log10(2.0)
    end = compared[-1]
    ticks = [t for t in end.find("Text") if (t.text or "").startswith("10")]
    sup = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
    ks = [int(t.text[2:].translate(sup)) for t in ticks]
    assert set(ks) <= set(range(-5, 1)) and len(ks) >= 3 and 0 in ks
    (bar,) = [m for m in end.find("ImageMobject") if m.height < 0.3]
    for t, k in zip(ticks, ks, strict=True):
        assert t.center[0] == pytest.approx(bar.box[0] + (k - lo) / (hi - lo) * bar.width, abs=1e-3), k


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


def test_video_recolours_each_layer_as_the_pulse_passes(
    designed_image: Path, single: list[Shot], tmp_path: Path
) -> None:
    """In the rendered video, half way through the first update's pulse (it runs from D's output back to z),
    D's last layer already shows its colour and G's first layer is still empty; at its end both show theirs."""
    import av

    from pipeline.render import builtin_scene_path, render_file
    from pipeline.run import Run

    kw = {"fmt": "mp4", "out": tmp_path, "progress": False, "pixel_width": 320, "frame_rate": 10}
    (mp4,) = render_file(builtin_scene_path("gradient_flow"), Run.load(designed_image), **kw)
    with av.open(str(mp4)) as box:
        stream = box.streams.video[0]
        frames = [(float(f.pts * stream.time_base), f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    (pulse_shot,) = [s for s in single if s.find(name="pulse") and step_of(s) == SHOWN[1]]
    end, start = pulse_shot.time, pulse_shot.time - 1.2  # the pulse's play
    (blocks,) = rows(pulse_shot)

    def colour(t: float, block: Mob) -> np.ndarray:
        _, img = min(frames, key=lambda f: abs(f[0] - t))
        h, w = img.shape[:2]
        x, y = block.center
        return img[int(round((4 - y) / 8 * h)), int(round((x + 4 * w / h) / (8 * w / h) * w))].astype(int)

    empty = np.array([int(style.BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)])
    first_g, last_d = blocks[0], blocks[-1]
    assert np.abs(colour(start + 0.5, last_d) - empty).max() > 30  # D's output layer: passed, recoloured
    assert np.abs(colour(start + 0.5, first_g) - empty).max() < 12  # G's first layer: not reached yet
    assert np.abs(colour(end, first_g) - empty).max() > 30


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
        named = sorted((t for t in end.find("Text") if t.text in ("ConvT", "Conv", "BN")), key=lambda t: t.center[0])
        assert [t.text for t in named] == kinds, variant
        note = f"{len(blocks)} layers: too many to name here (see run.json)"
        assert any(note in s.texts() for s in shots) == (not kinds), variant
        if kinds:  # a ConvT's name centred over it and the BatchNorm after it
            assert named[0].center[0] == pytest.approx((blocks[0].box[0] + blocks[1].box[2]) / 2, abs=1e-6)
