"""The counterfeiter (G) and the police officer (D), with the scores D really gave.

Real bills are samples of the run's fixed real batch, fakes are G's output at a snapshot; D stamps
each with its recorded score. Then the training cycle, an accuracy meter that follows the run's
real accuracy toward 50 %, and the minimax objective (LaTeX if installed, else Typst, else text).

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/adversarial.py
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    GREY_B,
    LEFT,
    RIGHT,
    UP,
    WHITE,
    Create,
    FadeIn,
    FadeOut,
    Line,
    Rectangle,
    RoundedRectangle,
    Transform,
    VGroup,
    Write,
)

from scenes import common as c

ROUNDS = 3  # snapshots whose bills D inspects: start, middle, end
BILLS = 2  # real and fake bills per round


def bill(run: c.Run, sample: np.ndarray, color: str) -> c.Mobject:
    """One sample drawn as a banknote: the image itself, or the point's coordinates for toys."""
    frame = RoundedRectangle(width=1.5, height=1.0, corner_radius=0.08, stroke_color=color, stroke_width=3)
    if run.kind == "image":
        face = c.picture(c.to_rgb(sample), 0.8).move_to(frame)
    else:
        coords = ", ".join(f"{v:.1f}" for v in np.asarray(sample).ravel()[:2])
        face = c.label(f"({coords})", 20).move_to(frame)
    return c.Group(frame, face)


class CounterfeiterAndPolice(c.RunScene):
    """G forges, D inspects with its real scores, the cycle repeats until D is down to a coin toss."""

    def construct(self) -> None:
        run = self.run
        title = c.label("The counterfeiter and the police officer", 34).to_edge(UP, buff=0.3)
        g = self.actor("G: counterfeiter", c.G_COLOR).move_to(LEFT * 4.6 + UP * 0.6)
        d = self.actor("D: police officer", c.D_COLOR).move_to(RIGHT * 4.6 + UP * 0.6)
        bank = c.label("real bills (dataset)", 22, c.REAL_COLOR).move_to(LEFT * 4.6 + DOWN * 2.6)
        self.play(Write(title), FadeIn(g), FadeIn(d), FadeIn(bank), run_time=1.0)

        for step in run.spread_steps(ROUNDS):
            self.inspect(run, step, g, d, bank)
        self.cycle()
        self.meter(run)
        self.play(*(FadeOut(m) for m in list(self.mobjects)), run_time=0.5)
        self.ending(run)

    def actor(self, name: str, color: str) -> VGroup:
        box = Rectangle(width=3.0, height=1.1, stroke_color=color, fill_color=color, fill_opacity=0.15)
        return VGroup(box, c.label(name, 24, color).move_to(box))

    def inspect(self, run: c.Run, step: int, g: VGroup, d: VGroup, bank: c.Mobject) -> None:
        """One round: bills from the bank and from G travel to D, which stamps them with its scores."""
        snap = run.snapshot(step)
        counter = c.label(c.fmt_step(step), 26).move_to(UP * 2.6)
        self.play(FadeIn(counter), run_time=0.3)
        rng = np.random.default_rng(step)  # which samples: fixed per step, so re-renders match
        n = min(len(run.real), len(snap.fake))
        picks = rng.choice(n, size=min(BILLS, n), replace=False)
        bills, stamps = [], []
        for row, i in enumerate(picks):
            y = 0.9 - row * 1.35
            real = bill(run, run.real[i], c.REAL_COLOR).move_to(bank.get_center() + UP * 0.9)
            fake = bill(run, snap.fake[i], c.FAKE_COLOR).move_to(g.get_center())
            self.play(FadeIn(real), FadeIn(fake), run_time=0.3)
            self.play(real.animate.move_to([-0.9, y - 0.6, 0]), fake.animate.move_to([0.9, y - 0.6, 0]), run_time=0.6)
            sr = c.stamp(float(snap.d_real[i])).scale(0.8).move_to(real.get_center() + RIGHT * 0.35 + DOWN * 0.2)
            sf = c.stamp(float(snap.d_fake[i])).scale(0.8).move_to(fake.get_center() + RIGHT * 0.35 + DOWN * 0.2)
            self.play(FadeIn(sr, scale=1.6), FadeIn(sf, scale=1.6), run_time=0.4)
            bills += [real, fake]
            stamps += [sr, sf]
        mean_real, mean_fake = float(np.mean(snap.d_real)), float(np.mean(snap.d_fake))
        summary = c.label(f"mean D(real) = {mean_real:.2f}    mean D(fake) = {mean_fake:.2f}", 22)
        summary.move_to(DOWN * 3.3)
        self.play(FadeIn(summary), run_time=0.3)
        self.wait(0.6)
        self.play(*(FadeOut(m) for m in [*bills, *stamps, summary, counter]), run_time=0.4)

    def cycle(self) -> None:
        """The alternating updates: one of the two is frozen while the other learns."""
        steps = [
            ("1. freeze G, train D", "D learns to tell real from fake"),
            ("2. freeze D, train G", "G learns to fool this D"),
            ("3. repeat", "until D can do no better than a coin toss"),
        ]
        rows = VGroup(*(VGroup(c.label(a, 28), c.label(b, 20, GREY_B)).arrange(RIGHT, buff=0.4) for a, b in steps))
        rows.arrange(DOWN, buff=0.35, aligned_edge=LEFT).move_to(DOWN * 1.3)
        self.play(FadeIn(rows), run_time=0.6)
        for row in rows:
            self.play(row[0].animate.set_color(c.G_COLOR), run_time=0.4)
            self.wait(0.3)
        self.play(FadeOut(rows), run_time=0.4)

    def meter(self, run: c.Run) -> None:
        """D's accuracy at each snapshot (smoothed over its log block): it heads for 50 %."""
        acc = c.smooth(c.accuracy(run), 15)
        width = 7.0
        track = Rectangle(width=width, height=0.4, stroke_color=WHITE).move_to(DOWN * 1.6)
        left = track.get_left()
        half = Line(left + RIGHT * width / 2 + UP * 0.35, left + RIGHT * width / 2 + DOWN * 0.35, color=c.G_COLOR)
        half_cap = c.label("50 %: D is guessing", 20, c.G_COLOR).next_to(half, DOWN, buff=0.1)
        cap = c.label("D's accuracy on real + fake (from the run)", 22).next_to(track, UP, buff=0.25)

        def fill(frac: float) -> Rectangle:
            frac = float(np.clip(np.nan_to_num(frac, nan=0.5), 0.0, 1.0))
            bar = Rectangle(
                width=max(width * frac, 0.01), height=0.4, stroke_width=0, fill_color=c.D_COLOR, fill_opacity=0.8
            )
            return bar.align_to(track, LEFT).move_to(track, coor_mask=np.array([0, 1, 0]))

        def readout(step: int, frac: float) -> c.Mobject:
            return (
                c.label(f"{c.fmt_step(step)}: {100 * frac:.0f} %", 24)
                .next_to(track, RIGHT, buff=0.3)
                .shift(LEFT * 2.4 + DOWN * 1.0)
            )

        steps = run.spread_steps(8)
        values = [c.value_at(run.metrics.step, acc, s) for s in steps]
        bar, text = fill(values[0]), readout(steps[0], values[0])
        self.play(Create(track), FadeIn(bar), FadeIn(half), FadeIn(half_cap), FadeIn(cap), FadeIn(text), run_time=0.6)
        for s, v in zip(steps[1:], values[1:], strict=True):
            self.play(Transform(bar, fill(v)), Transform(text, readout(s, v)), run_time=0.5)
        self.wait(0.6)

    def ending(self, run: c.Run) -> None:
        obj = c.objective().move_to(UP * 0.4)
        loss = c.loss_name(run)
        note = {
            "minimax": "this run trains G on exactly this objective (minimax loss)",
            "bce": "this run's G maximises log D(G(z)) instead: same game, no vanishing gradient",
        }.get(loss, f"this run plays a variant of this game: the {loss} loss")
        cap = VGroup(c.label("G minimises what D maximises", 22, GREY_B), c.label(note, 22, GREY_B)).arrange(DOWN)
        cap.next_to(obj, DOWN, buff=0.5)
        self.play(Write(obj), run_time=1.2)
        self.play(FadeIn(cap), run_time=0.5)
        self.wait(1.2)
