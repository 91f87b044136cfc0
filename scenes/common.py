"""Drawing helpers shared by the built-in scenes: the run, images, point clouds, colours, phases.

Scenes get their numbers only from here and from ``pipeline.run``: never from training code, so a
scene shows exactly what a run recorded on disk.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from manim import (
    GREY_B,
    Group,
    ImageMobject,
    Mobject,
    Rectangle,
    Scene,
    VGroup,
    VMobject,
)
from manim.constants import RESAMPLING_ALGORITHMS

from pipeline.frames import tile, to_rgb
from pipeline.run import Run, RunError, Snapshot, current_run, run_from_env
from pipeline.runformat import KIND_NAMES, SNAPSHOT
from scenes import style

#: Environment variable naming a second run to compare with (gradient_flow: a minimax vs a bce run).
COMPARE_ENV = "GANVIZ_COMPARE_RUN"


# -- the run -------------------------------------------------------------------------------------
def scene_run(kinds: Sequence[str] | None = None, scene: str = "this scene") -> Run:
    """The run to show ($GANVIZ_RUN or the latest), refused early if it has no snapshots or (``kinds``) is of a
    kind the scene cannot draw."""
    run = current_run()
    reason = wrong_kind(scene, kinds, run)
    if reason is not None:
        raise RunError(reason)
    run.snapshot_steps()  # refuses a run without snapshots
    return run


def wrong_kind(scene: str, kinds: Sequence[str] | None, run: Run) -> str | None:
    """Why ``scene``, which draws runs of ``kinds`` (None: any), cannot draw ``run``'s kind (None: it can)."""
    if not kinds or run.kind in kinds:
        return None
    wanted = " or ".join(KIND_NAMES.get(k, k) for k in kinds)
    hint = "e.g. 'ganviz train toy-rings'" if "toy2d" in kinds else "pick a matching run"
    return (
        f"scene {scene} needs {wanted}, but {run.name} is {KIND_NAMES.get(run.kind, run.kind)}; "
        f"pass --run with a matching run ({hint})"
    )


class RunScene(Scene):
    """The base of every scene drawn from a run. manim calls ``setup()`` before ``construct()``: it loads the run
    to show once ($GANVIZ_RUN, else the latest run with data), refuses a run of a kind the scene cannot draw
    (``kinds``, e.g. ``("toy2d",)``; None: any), and loads the optional second run ($GANVIZ_COMPARE_RUN)."""

    kinds: tuple[str, ...] | None = None
    #: metrics.jsonl columns the scene draws: a run that recorded none of a column's values cannot be drawn
    needs: tuple[str, ...] = ()
    #: the scene draws D's scores as probabilities of real (on a 0-1 scale, against 0.5): not a critic's values
    probabilities: bool = True
    #: the scene draws a second run beside the first (``--compare``); the layout and truth tests probe it so too
    compares: bool = False
    #: where the run's data moves on screen (scene units: centre (x, y), width, height): what tests/test_scenes.py
    #: watches change in a rendered video
    data_area: tuple[tuple[float, float], float, float] = ((0.0, 0.0), 6.0, 4.0)
    run: Run
    other_run: Run | None

    def play(self, *args: Any, **kwargs: Any) -> None:
        """Play, after bringing what each animation animates up to date with its updaters.

        An animation copies its mobject when it begins and runs the copy's updaters every frame (the mobject's own
        are suspended). A number whose tracker moved since it was last drawn (a footer set to the first step shown)
        would get new digits in the copy only: the two no longer have the same parts, and manim fails in
        ``Animation.interpolate`` with 'zip() argument 2 is longer than argument 1' (tests/test_any_shape.py found
        it on runs whose first step shown has more digits than the counter's start)."""
        animated = [m for m in (getattr(item, "mobject", item) for item in args) if isinstance(m, Mobject)]
        for mob in [*self.mobjects, *animated]:  # trackers first: the numbers on screen follow them
            mob.update(0)
        super().play(*args, **kwargs)

    def setup(self) -> None:
        self.run = scene_run(None, type(self).__name__)
        reason = self.cannot_draw(self.run)
        if reason is not None:
            raise RunError(reason)
        self.other_run = compare_run()

    @classmethod
    def cannot_draw(cls, run: Run) -> str | None:
        """Why this scene cannot draw ``run``, in one line (None: it can): a run of another kind, D's scores that
        are a critic's raw values (for a scene that shows them as probabilities), or a metric it draws that the
        run did not record (a recorded loop that did not hand it to ``Recorder.step``)."""
        reason = wrong_kind(cls.__name__, cls.kinds, run)
        if reason is not None:
            return reason
        if run.critic and cls.probabilities:
            return (
                f"scene {cls.__name__} draws D's scores as probabilities of real, but {run.name} recorded a critic's "
                "raw values (run.json d_scores: critic); its plots and GIFs show the run"
            )
        missing = [col for col in cls.needs if not np.isfinite(run.metrics[col]).any()]
        if missing:
            return (
                f"scene {cls.__name__} draws {', '.join(missing)}, but {run.name} recorded no values of "
                f"{'it' if len(missing) == 1 else 'them'} (hand {'it' if len(missing) == 1 else 'them'} to "
                "Recorder.step)"
            )
        return None


def compare_run() -> Run | None:
    """An optional second run ($GANVIZ_COMPARE_RUN), e.g. the same toy with the other loss."""
    return run_from_env(COMPARE_ENV)


def loss_name(run: Run) -> str:
    return str(run.config.get("loss", "bce"))


# -- phases of learning --------------------------------------------------------------------------
PHASES = ("noise", "structure", "detail")


def realism_gap(run: Run, fake: np.ndarray) -> float:
    """How far G's samples are from the fixed real batch, in a way that needs no trained critic.

    Images: L1 gap between the mean and the std image of fakes and reals (noise has the wrong
    layout and contrast). Toys: symmetric mean nearest-neighbour (Chamfer) distance.
    """
    real = run.real
    if fake.ndim == 4:
        f = fake.astype(np.float32) / 255.0
        r = real.astype(np.float32) / 255.0
        return float(np.abs(f.mean(0) - r.mean(0)).mean() + np.abs(f.std(0) - r.std(0)).mean())
    f = fake.reshape(len(fake), -1).astype(np.float64)[:256]
    r = real.reshape(len(real), -1).astype(np.float64)[:256]
    d = np.sqrt(((f[:, None, :] - r[None, :, :]) ** 2).sum(-1))
    return float(d.min(1).mean() + d.min(0).mean())


#: the share of the gap a run closed at which its samples enter 'structure', then 'detail'
PHASE_SHARES = (0.5, 0.85)


def gap_closed(run: Run) -> tuple[list[int], np.ndarray | None]:
    """(snapshot steps, share of the gap to the real batch closed by each) of the run's readable snapshots.

    The gap (``realism_gap``) is made monotone (running minimum); the share at a snapshot is how much of the gap
    this run closed in all had been closed by then. None instead of the shares where the run closed under a quarter
    of its initial gap (it never left the noise)."""
    all_steps, gaps_list = [], []
    for snap in run.iter_snapshots(keys=(SNAPSHOT.fake,)):  # samples only; damaged snapshots skipped with a warning
        all_steps.append(snap.step)
        gaps_list.append(realism_gap(run, snap.fake))
    gaps = np.minimum.accumulate(np.array(gaps_list))
    closed = gaps[0] - gaps
    total = closed[-1]
    if not (total > 0.25 * gaps[0] and total > 1e-9):
        return all_steps, None
    return all_steps, closed / total


def phase_steps(run: Run, steps: Sequence[int] | None = None) -> dict[int, str]:
    """Label each snapshot step noise / structure / detail from the run's own samples.

    The phase changes when half, then 85 %, of the gap to the real batch that this run closed has been closed
    (``gap_closed``; if it closed a quarter of its initial gap at all). So phase boundaries move with the
    run: a run that learns fast reaches 'detail' early; one that never learns stays in 'noise'.
    """
    all_steps, shares = gap_closed(run)
    steps = list(all_steps if steps is None else steps)
    out = {}
    for s in steps:
        i = max(bisect.bisect_right(all_steps, s) - 1, 0)  # the readable snapshot at or before s
        frac = 0.0 if shares is None else shares[i]
        out[s] = PHASES[0] if frac < PHASE_SHARES[0] else PHASES[1] if frac < PHASE_SHARES[1] else PHASES[2]
    return out


# -- images --------------------------------------------------------------------------------------
def sample_grid(images: np.ndarray, n: int = 16) -> np.ndarray:
    """The first ``n`` samples (a square number) as one RGB picture, with 1-pixel dark gaps between them."""
    cols = int(np.sqrt(n))
    return to_rgb(tile(images[: cols * cols], cols, pad=1, pad_value=24))


def picture(pixels: np.ndarray, height: float, smooth: bool = False) -> ImageMobject:
    """An ImageMobject of ``height`` scene units: crisp (nearest-neighbour) pixels unless ``smooth``."""
    mob = ImageMobject(np.ascontiguousarray(pixels))
    mob.set_resampling_algorithm(RESAMPLING_ALGORITHMS["bilinear" if smooth else "nearest"])
    mob.height = height
    return mob


# -- point clouds --------------------------------------------------------------------------------
class PlotBox:
    """Maps a run's 2-D data coordinates into a square of the scene (no manim Axes: cheaper to draw)."""

    def __init__(self, extent: Sequence[float], center: np.ndarray, size: float):
        self.xmin, self.xmax, self.ymin, self.ymax = (float(v) for v in extent)
        self.center = np.asarray(center, dtype=np.float64)
        self.size = size

    def to_scene(self, pts: np.ndarray) -> np.ndarray:
        pts = np.asarray(pts, dtype=np.float64)
        u = (pts[:, 0] - self.xmin) / (self.xmax - self.xmin) - 0.5
        v = (pts[:, 1] - self.ymin) / (self.ymax - self.ymin) - 0.5
        u, v = np.clip(u, -0.52, 0.52), np.clip(v, -0.52, 0.52)
        return np.stack([u * self.size, v * self.size, np.zeros_like(u)], axis=1) + self.center

    def frame(self) -> Rectangle:
        return Rectangle(width=self.size, height=self.size, stroke_color=GREY_B, stroke_width=1).move_to(self.center)


def data_extent(run: Run, margin: float = 0.1) -> list[float]:
    """The 2-D box to draw in: D's field extent when recorded, else the real batch's bounds."""
    ext = run.fixed.field_extent
    if ext is not None and len(ext) == 4:
        return [float(v) for v in ext]
    pts = run.real.reshape(len(run.real), -1)[:, :2]
    lo, hi = pts.min(0), pts.max(0)
    pad = (hi - lo) * margin + 1e-6
    return [lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]]


# -- point clouds that move every frame -------------------------------------------------------------------
@dataclass(frozen=True)
class Frame:
    """Data coordinates -> scene units in a rectangle of the scene. The axes share one scale unless the data's
    shape would leave most of the rectangle empty; then x may be stretched, up to ``MAX_STRETCH`` times."""

    lo: np.ndarray  # data (x, y) at the rectangle's lower left
    scale: np.ndarray  # scene units per data unit, (x, y)
    corner: np.ndarray  # scene (x, y) of the lower left
    size: np.ndarray  # scene (width, height)

    MAX_STRETCH = 1.5

    @classmethod
    def fit(
        cls, lo: np.ndarray, hi: np.ndarray, center: np.ndarray, width: float, height: float, stretch: float = 0.0
    ) -> Frame:
        """``stretch``: the most x may be stretched against y (0: MAX_STRETCH; 1.0: equal aspect, a circle stays a
        circle)."""
        span = np.maximum(np.asarray(hi, np.float64) - lo, 1e-6)
        one = min(width / span[0], height / span[1])
        most = stretch or cls.MAX_STRETCH
        scale = np.array([min(width / span[0], one * most), min(height / span[1], one * most)])
        corner = np.asarray(center[:2], np.float64) - span * scale / 2
        return cls(np.asarray(lo, np.float64), scale, corner, span * scale)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        """Scene points of data points; strays beyond the rectangle are held on its edge."""
        xy = (np.asarray(pts, np.float64)[:, :2] - self.lo) * self.scale
        xy = np.clip(xy, 0.0, self.size) + self.corner
        return np.column_stack([xy, np.zeros(len(xy))])

    def box(self) -> Rectangle:
        rect = Rectangle(width=self.size[0], height=self.size[1], stroke_color=style.MUTED, stroke_width=1)
        return rect.move_to([*(self.corner + self.size / 2), 0])


_CIRCLE = np.array([[np.cos(a), np.sin(a), 0.0] for a in np.linspace(0, 2 * np.pi, 9)])


def place_dots(cloud: VMobject, points: np.ndarray, radius: float) -> None:
    """Redraw ``cloud`` as an octagon of ``radius`` around each point (at video sizes, a dot): many dots as one
    path, cheap to move every frame."""
    corners = np.asarray(points)[:, None, :] + radius * _CIRCLE[None]  # (n, 9, 3)
    a, b = corners[:, :-1], corners[:, 1:]
    quads = np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=2)  # straight cubic Béziers
    cloud.points = quads.reshape(-1, 3)


_TRIANGLE = np.array([[np.cos(a), np.sin(a), 0.0] for a in np.pi / 2 + np.arange(4) * 2 * np.pi / 3])


def place_edge_marks(marks: VMobject, points: np.ndarray, lo: np.ndarray, hi: np.ndarray, size: float) -> np.ndarray:
    """Redraw ``marks`` as a triangle on the edge of the box ``lo``-``hi`` (scene units) for each point outside it,
    where the line from the box's centre to the point leaves the box, pointing out along that line: a point off a
    map is shown as off it, never pinned to its edge as if it were there. Returns the mask of points inside."""
    pts = np.asarray(points, np.float64)[:, :2]
    inside = np.all((pts >= lo) & (pts <= hi), axis=1)
    mid, half = (np.asarray(lo) + hi) / 2, (np.asarray(hi) - lo) / 2
    d = pts[~inside] - mid
    on_edge = mid + d / np.maximum(np.max(np.abs(d) / half, axis=1, keepdims=True), 1e-12)
    turn = np.arctan2(d[:, 1], d[:, 0]) - np.pi / 2  # the template points up: turn it to point out
    cos, sin = np.cos(turn)[:, None], np.sin(turn)[:, None]
    x, y = _TRIANGLE[None, :, 0], _TRIANGLE[None, :, 1]
    corners = np.stack([cos * x - sin * y, sin * x + cos * y, 0 * (x + cos)], axis=2) * size
    corners[..., :2] += on_edge[:, None, :]
    a, b = corners[:, :-1], corners[:, 1:]
    marks.points = np.stack([a, a + (b - a) / 3, a + 2 * (b - a) / 3, b], axis=2).reshape(-1, 3)
    return inside


def point_cloud(points: np.ndarray, color: str, radius: float, opacity: float) -> VMobject:
    """Dots at ``points`` (scene units) as one mobject (see ``place_dots``)."""
    cloud = VMobject(fill_color=color, fill_opacity=opacity, stroke_width=0)
    place_dots(cloud, points, radius)
    return cloud


class Strip:
    """A 1-D panel: histogram heights over ``edges`` in its upper part, one dot per sample in a band below."""

    def __init__(self, edges: np.ndarray, center: np.ndarray, width: float, height: float):
        self.edges, self.center, self.width, self.height = edges, np.asarray(center, np.float64), width, height
        self.left = self.center[0] - width / 2
        self.base = self.center[1] - height / 2 + height * 0.3  # histogram above, dots below
        self.tall = height * 0.65

    def x(self, value: float) -> float:
        frac = (value - self.edges[0]) / (self.edges[-1] - self.edges[0])
        return float(self.left + np.clip(frac, -0.01, 1.01) * self.width)

    def stairs(self, heights: np.ndarray) -> VMobject:
        shape = VMobject()
        self.set_stairs(shape, heights)
        return shape

    def set_stairs(self, shape: VMobject, heights: np.ndarray) -> None:
        """``heights`` (1 = the real histogram's peak) as a closed staircase on the base line."""
        xs = [self.x(e) for e in self.edges]
        ys = self.base + np.minimum(heights, 1.15) * self.tall * 0.85
        corners = [[xs[0], self.base, 0]]
        for i, y in enumerate(ys):
            corners += [[xs[i], y, 0], [xs[i + 1], y, 0]]
        corners += [[xs[-1], self.base, 0], [xs[0], self.base, 0]]
        shape.set_points_as_corners(np.array(corners))

    def dots(self, values: np.ndarray, rows: np.ndarray) -> np.ndarray:
        band = self.base - self.center[1] + self.height / 2  # from the bottom to the base line
        ys = self.center[1] - self.height / 2 + band * (0.15 + 0.7 * rows)
        return np.array([[self.x(v), y, 0.0] for v, y in zip(values, ys, strict=True)]).reshape(-1, 3)


# names scenes use as ``c.NAME`` (re-exported so that scene files stay short)
__all__ = [
    "COMPARE_ENV",
    "PHASES",
    "Group",
    "Mobject",
    "Frame",
    "PlotBox",
    "Strip",
    "Run",
    "RunScene",
    "Snapshot",
    "VGroup",
    "compare_run",
    "data_extent",
    "gap_closed",
    "loss_name",
    "phase_steps",
    "picture",
    "place_dots",
    "point_cloud",
    "sample_grid",
    "scene_run",
    "tile",
    "to_rgb",
    "wrong_kind",
]
