"""Distributions on a 2-D toy: real points, G's points and D's decision field, over training.

What GAN Lab shows in a browser, as a video of a real run: the heatmap is D's recorded score on a
grid (green: D says real, magenta: D says fake), the dots are the fixed real batch and G's output
on the fixed noise, which move from snapshot to snapshot.

    GANVIZ_RUN=outputs/runs/<toy2d run> manim -ql scenes/distribution.py
"""

from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, FadeIn, Transform, Write

from scenes import common as c

N_STEPS = 12
N_POINTS = 160
REAL_DOTS = "#f4f4f4"  # white: green real points would vanish on D's green "real" region
BOX_CENTER = np.array([-1.6, -0.35, 0.0])
BOX_SIZE = 6.2


class DecisionField(c.RunScene):
    """D's field as a heatmap under the real and generated points, snapshot by snapshot."""

    kinds = ("toy2d",)

    def construct(self) -> None:
        run = self.run
        box = c.PlotBox(c.data_extent(run), BOX_CENTER, BOX_SIZE)
        steps = run.spread_steps(N_STEPS)
        title = c.label(f"What D sees: {run.variant}", 32).to_edge(UP, buff=0.25)
        first = run.snapshot(steps[0])
        heat = self.heatmap(first, box)
        real = c.dots(box.to_scene(run.real[:N_POINTS]), REAL_DOTS, radius=0.03, opacity=0.8)
        fake = c.dots(box.to_scene(first.fake[:N_POINTS]), c.FAKE_COLOR, radius=0.035)
        legend = (
            c.Group(
                c.label("real data", 22, REAL_DOTS),
                c.label("G(z)", 22, c.FAKE_COLOR),
                c.label("background: D's score", 20),
                c.label("green: 'real'  dark: 0.5", 18),
                c.label("magenta: 'fake'", 18),
            )
            .arrange(DOWN, aligned_edge=LEFT, buff=0.18)
            .move_to([4.6, 1.2, 0])
        )
        counter, score = self.status(run, first)
        self.play(Write(title), FadeIn(heat), FadeIn(box.frame()), FadeIn(legend), run_time=0.9)
        self.play(FadeIn(real), FadeIn(fake), FadeIn(counter), FadeIn(score), run_time=0.7)
        for step in steps[1:]:
            snap = run.snapshot(step)
            new_heat = self.heatmap(snap, box)
            new_counter, new_score = self.status(run, snap)
            self.add(new_heat)
            self.bring_to_back(new_heat)
            self.play(
                FadeIn(new_heat),
                Transform(fake, c.move_dots(fake, box.to_scene(snap.fake[:N_POINTS]))),
                Transform(counter, new_counter),
                Transform(score, new_score),
                run_time=0.8,
            )
            self.remove(heat)
            heat = new_heat
            self.wait(0.2)
        self.wait(1.0)

    def heatmap(self, snap: c.Snapshot, box: c.PlotBox) -> c.Mobject:
        pix = c.field_pixels(snap.field)
        mob = c.picture(pix, box.size, smooth=True)
        mob.stretch_to_fit_width(box.size)
        return mob.move_to(box.center)

    def status(self, run: c.Run, snap: c.Snapshot) -> tuple[c.Mobject, c.Mobject]:
        counter = c.label(c.fmt_step(snap.step), 28).move_to([4.6, -1.4, 0])
        text = f"mean D(real) {np.mean(snap['d_real']):.2f}\nmean D(fake) {np.mean(snap['d_fake']):.2f}"
        score = c.label(text, 20).next_to(counter, DOWN, buff=0.2).shift(RIGHT * 0.0)
        return counter, score
