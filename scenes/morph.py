"""Noise to image: G's samples on the fixed noise walk through the run's snapshots.

Image runs: a 4x4 grid of fixed-noise samples cross-fades from snapshot to snapshot next to a grid
of real samples, with the step and the learning phase (noise / structure / detail, from the run's
own samples: see ``common.phase_steps``). Toy runs: the generated point cloud morphs onto the target.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/morph.py
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, FadeIn, Transform, Write

from scenes import common as c

#: Where the fake-sample grid sits (scene units); tests read the frame at this spot.
GRID_CENTER = np.array([-3.0, -0.35, 0.0])
GRID_HEIGHT = 4.6
REAL_CENTER = np.array([3.6, -0.35, 0.0])
N_SAMPLES = 16
N_STEPS = 10  # snapshots shown; the cross-fades between them are the morph


class NoiseToImage(c.RunScene):
    """G's fixed-noise samples from step 0 to the end, phase labelled from the run itself."""

    def construct(self) -> None:
        run = self.run
        steps = run.spread_steps(N_STEPS)
        phases = c.phase_steps(run, steps)
        title = c.label(f"From noise to samples: {run.variant}", 34).to_edge(UP, buff=0.3)
        self.play(Write(title), run_time=0.8)

        if run.kind == "image":
            self.morph_images(run, steps, phases)
        else:
            self.morph_points(run, steps, phases)
        self.wait(1.0)

    # -- image runs ------------------------------------------------------------------------------
    def morph_images(self, run: c.Run, steps: list[int], phases: dict[int, str]) -> None:
        real = c.picture(c.sample_grid(run.real, N_SAMPLES), GRID_HEIGHT * 0.62).move_to(REAL_CENTER)
        real_cap = c.label("real samples", 24, c.REAL_COLOR).next_to(real, DOWN, buff=0.2)
        grid = c.picture(c.sample_grid(run.snapshot(steps[0]).fake, N_SAMPLES), GRID_HEIGHT).move_to(GRID_CENTER)
        cap = c.label("G(z), same z every snapshot", 24, c.FAKE_COLOR).next_to(grid, DOWN, buff=0.2)
        counter, phase = self.status(steps[0], phases[steps[0]])
        self.play(FadeIn(grid), FadeIn(cap), FadeIn(counter), FadeIn(phase), run_time=0.8)
        self.play(FadeIn(real), FadeIn(real_cap), run_time=0.6)
        self.wait(0.4)
        for step in steps[1:]:
            nxt = c.picture(c.sample_grid(run.snapshot(step).fake, N_SAMPLES), GRID_HEIGHT).move_to(GRID_CENTER)
            new_counter, new_phase = self.status(step, phases[step])
            # cross-fade: the new snapshot fades in over the old one, which then leaves
            self.play(FadeIn(nxt), Transform(counter, new_counter), Transform(phase, new_phase), run_time=0.9)
            self.remove(grid)
            grid = nxt
            self.wait(0.25)

    # -- toy runs --------------------------------------------------------------------------------
    def morph_points(self, run: c.Run, steps: list[int], phases: dict[int, str]) -> None:
        box = c.PlotBox(self.extent(run), GRID_CENTER + RIGHT * 1.5, GRID_HEIGHT)
        legend = c.label("real", 24, c.REAL_COLOR).move_to(REAL_CENTER + UP * 0.8 + RIGHT * 0.6)
        legend2 = c.label("G(z)", 24, c.FAKE_COLOR).next_to(legend, DOWN, buff=0.25)
        counter, phase = self.status(steps[0], phases[steps[0]], at=REAL_CENTER + RIGHT * 0.6 + DOWN * 0.6)
        if run.kind == "toy2d":
            real = c.dots(box.to_scene(run.real[:200]), c.REAL_COLOR, opacity=0.45)
            fake = c.dots(box.to_scene(run.snapshot(steps[0]).fake[:200]), c.FAKE_COLOR)
            self.play(FadeIn(box.frame()), FadeIn(real), FadeIn(legend), FadeIn(legend2), run_time=0.8)
            self.play(FadeIn(fake), FadeIn(counter), FadeIn(phase), run_time=0.6)
            for step in steps[1:]:
                target = c.move_dots(fake, box.to_scene(run.snapshot(step).fake[:200]))
                new_counter, new_phase = self.status(step, phases[step], at=counter.get_center())
                self.play(
                    Transform(fake, target), Transform(counter, new_counter), Transform(phase, new_phase), run_time=0.9
                )
                self.wait(0.2)
        else:  # toy1d: histograms of G's samples against the real one
            lo, hi = box.xmin, box.xmax
            edges = np.linspace(lo, hi, 31)
            peak = max(np.histogram(run.real.ravel(), bins=edges, density=True)[0].max(), 1e-6)
            real = c.histogram_bars(run.real, edges, box, c.REAL_COLOR, peak)
            fake = c.histogram_bars(run.snapshot(steps[0]).fake, edges, box, c.FAKE_COLOR, peak)
            self.play(FadeIn(box.frame()), FadeIn(real), FadeIn(legend), FadeIn(legend2), run_time=0.8)
            self.play(FadeIn(fake), FadeIn(counter), FadeIn(phase), run_time=0.6)
            for step in steps[1:]:
                target = c.histogram_bars(run.snapshot(step).fake, edges, box, c.FAKE_COLOR, peak)
                new_counter, new_phase = self.status(step, phases[step], at=counter.get_center())
                self.play(
                    Transform(fake, target), Transform(counter, new_counter), Transform(phase, new_phase), run_time=0.9
                )
                self.wait(0.2)

    @staticmethod
    def extent(run: c.Run) -> list[float]:
        if run.kind == "toy2d":
            return c.data_extent(run)
        shown = run.spread_steps(N_STEPS)
        clouds = [run.real.ravel()] + [run.snapshot(s).fake.ravel() for s in shown]
        lo = min(float(np.percentile(v, 0.5)) for v in clouds)  # every cloud fits, stray outliers aside
        hi = max(float(np.percentile(v, 99.5)) for v in clouds)
        pad = (hi - lo) * 0.1 + 1e-3
        return [lo - pad, hi + pad, 0.0, 1.0]

    def status(self, step: int, phase: str, at: np.ndarray | None = None) -> tuple[c.Mobject, c.Mobject]:
        counter = c.label(c.fmt_step(step), 30)
        ph = c.label(f"phase: {phase}", 26, c.G_COLOR)
        if at is None:
            counter.move_to(REAL_CENTER + UP * 2.45)
            ph.next_to(counter, DOWN, buff=0.15)
        else:
            counter.move_to(at)
            ph.next_to(counter, DOWN, buff=0.15).align_to(counter, LEFT)
        return counter, ph
