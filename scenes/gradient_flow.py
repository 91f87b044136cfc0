"""Gradient flow: a forward pass noise -> G -> D, then the backward pass with the run's real gradients.

Every backward arrow's width and brightness is the recorded per-layer gradient norm at a snapshot,
so when D saturates (D(G(z)) near 0) and G's gradients vanish, the orange arrows into G fade.
With a second run ($GANVIZ_COMPARE_RUN, `ganviz render gradient_flow --compare RUN`), e.g. the same
toy with the ``minimax`` loss against ``bce``, the scene ends on both runs' median G gradient norms.

    GANVIZ_RUN=outputs/runs/<run> manim -ql scenes/gradient_flow.py
"""

from __future__ import annotations

import numpy as np
from manim import (
    DOWN,
    GREY_B,
    UP,
    Arrow,
    FadeIn,
    FadeOut,
    GrowArrow,
    Rectangle,
    Transform,
    VGroup,
    Write,
)

from scenes import common as c

N_STEPS = 7
Y = 0.3  # height of the layer stacks' centre line


def layer_norms(run: c.Run) -> tuple[np.ndarray, np.ndarray]:
    """G's and D's (snapshots, layers) gradient norms; step 0 has none (NaN) and is dropped."""
    mats = run.layer_grad_norms()
    out = []
    for net in ("g", "d"):
        arr = mats[net][2].T
        out.append(arr[np.isfinite(arr).any(axis=1)])
    return out[0], out[1]


def median_g_norm(run: c.Run) -> float:
    """Median over training of G's total gradient norm, from metrics.jsonl."""
    g = run.metrics.grad_norm_g
    g = g[np.isfinite(g)]
    return float(np.median(g)) if g.size else float("nan")


class Scale:
    """log10(gradient norm) -> arrow width/brightness, shared by all snapshots (and a compared run)."""

    def __init__(self, values: np.ndarray):
        v = np.log10(np.clip(values[np.isfinite(values)], 1e-8, None))
        self.lo, self.hi = (float(v.min()), float(v.max())) if v.size else (-3.0, 0.0)
        if self.hi - self.lo < 1e-6:
            self.lo -= 1.0

    def __call__(self, norm: float) -> float:
        if not np.isfinite(norm):
            return 0.0
        return float(np.clip((np.log10(max(norm, 1e-8)) - self.lo) / (self.hi - self.lo), 0.0, 1.0))


class GradientFlow(c.RunScene):
    """Forward in blue, backward in orange, arrow strength = the run's per-layer gradient norms."""

    def construct(self) -> None:
        run, other = self.run, self.other_run
        title = c.label(f"Gradient flow: {run.variant}, {c.loss_name(run)} loss", 32).to_edge(UP, buff=0.3)
        names_g = [f"G{i + 1}" for i in range(len(run.info.get("layers_g", [])))] or ["G"]
        names_d = [f"D{i + 1}" for i in range(len(run.info.get("layers_d", [])))] or ["D"]
        stack_g = self.stack(names_g, c.G_COLOR, x0=-5.2, x1=-0.9)
        stack_d = self.stack(names_d, c.D_COLOR, x0=0.9, x1=4.6)
        z = c.label("z", 30).move_to([-6.3, Y, 0])
        loss = c.label("loss", 26, c.G_COLOR).move_to([5.7, Y, 0])
        cap_g = c.label("generator", 22, c.G_COLOR).next_to(stack_g, DOWN, buff=0.25)
        cap_d = c.label("discriminator", 22, c.D_COLOR).next_to(stack_d, DOWN, buff=0.25)
        self.play(
            Write(title),
            FadeIn(stack_g),
            FadeIn(stack_d),
            FadeIn(z),
            FadeIn(loss),
            FadeIn(cap_g),
            FadeIn(cap_d),
            run_time=1.0,
        )

        nodes = [z, *stack_g, *stack_d, loss]
        forward = [self.arrow(a, b, c.FORWARD_COLOR, 4, 1.0, up=True) for a, b in zip(nodes, nodes[1:], strict=False)]
        fwd_cap = c.label("forward: noise -> G -> D", 22, c.FORWARD_COLOR).move_to(UP * 2.3)
        self.play(FadeIn(fwd_cap), run_time=0.3)
        for a in forward:
            self.play(GrowArrow(a), run_time=0.18)

        ng, nd = layer_norms(run)
        scale = Scale(np.concatenate([ng.ravel(), nd.ravel()]))
        steps = [s for s in run.spread_steps(N_STEPS + 1) if s > 0][:N_STEPS] or run.steps[-1:]
        bwd_cap = c.label("backward: D's loss -> D -> G  (width = gradient norm)", 22, c.BACKWARD_COLOR)
        bwd_cap.move_to(DOWN * 1.75)
        self.play(FadeOut(fwd_cap), FadeIn(bwd_cap), run_time=0.4)
        back, info = None, None
        for step in steps:
            snap = run.snapshot(step)
            norms = [float(v) for v in snap.grad_norm_g] + [float(v) for v in snap.grad_norm_d]
            new = self.backward(nodes, norms, scale)
            new_info = self.status(run, step, snap)
            if back is None:
                self.play(*(GrowArrow(a) for a in reversed(list(new))), FadeIn(new_info), run_time=0.8)
                back, info = new, new_info
            else:
                self.play(Transform(back, new), Transform(info, new_info), run_time=0.7)
            self.wait(0.35)
        self.wait(0.5)
        if other is not None:
            self.play(*(FadeOut(m) for m in list(self.mobjects)), run_time=0.5)
            self.compare(run, other)

    def stack(self, names: list[str], color: str, x0: float, x1: float) -> VGroup:
        xs = np.linspace(x0, x1, len(names)) if len(names) > 1 else [(x0 + x1) / 2]
        boxes = VGroup()
        for name, x in zip(names, xs, strict=True):
            box = Rectangle(width=0.55, height=1.5, stroke_color=color, fill_color=color, fill_opacity=0.2)
            boxes.add(VGroup(box, c.label(name, 18, color).move_to(box)).move_to([x, Y, 0]))
        return boxes

    def arrow(self, a: c.Mobject, b: c.Mobject, color: str, width: float, opacity: float, up: bool) -> Arrow:
        dy = 0.35 if up else -0.35
        start, end = a.get_right() + UP * dy, b.get_left() + UP * dy
        if not up:
            start, end = b.get_left() + UP * dy, a.get_right() + UP * dy
        # manim thins an arrow to at most 5x its length by default: the short arrows between layers all came
        # out ~2.1 wide whatever their norm, so the widths no longer showed the norms' order
        return Arrow(
            start,
            end,
            buff=0.05,
            color=color,
            stroke_width=width,
            stroke_opacity=opacity,
            max_tip_length_to_length_ratio=0.35,
            tip_length=0.15,
            max_stroke_width_to_length_ratio=1e3,
        )

    def backward(self, nodes: list[c.Mobject], norms: list[float], scale: Scale) -> VGroup:
        """Orange arrows from the loss back to z; the arrow leaving layer k carries layer k's norm."""
        arrows = VGroup()
        layers = nodes[1:-1]  # G1..Gn, D1..Dm in forward order, same order as norms
        for k, (a, b) in enumerate(zip(nodes, nodes[1:], strict=False)):
            norm = norms[k] if k < len(layers) else norms[-1]  # the loss -> last D layer: D's last norm
            s = scale(norm)
            arrows.add(self.arrow(a, b, c.BACKWARD_COLOR, 1.0 + 11.0 * s, 0.15 + 0.85 * s, up=False))
        return arrows

    def status(self, run: c.Run, step: int, snap: c.Snapshot) -> c.Mobject:
        d_fake = float(np.mean(snap.d_fake))
        g = snap.grad_norm_g
        text = f"{c.fmt_step(step)}   mean D(G(z)) = {d_fake:.2f}   |grad G| = {float(np.sqrt(np.nansum(g**2))):.3g}"
        line = c.label(text, 22).move_to(DOWN * 2.5)
        lines = [line]
        if d_fake < 0.1:
            note = "D saturates: D(G(z)) ~ 0"
            if c.loss_name(run) == "minimax":
                note += ", log(1 - D(G(z))) is flat: G's gradient vanishes"
            lines.append(c.label(note, 20, c.FAKE_COLOR).next_to(line, DOWN, buff=0.15))
        return VGroup(*lines)

    def compare(self, run: c.Run, other: c.Run) -> None:
        """Median G gradient norm of both runs, as bars on a log scale."""
        title = c.label("median gradient norm reaching G", 30).to_edge(UP, buff=0.5)
        names = [c.loss_name(run), c.loss_name(other)]
        if names[0] == names[1]:  # same loss: tell the bars apart by run
            names = [run.name, other.name]
        vals = [(names[0], median_g_norm(run)), (names[1], median_g_norm(other))]
        top = max((v for _, v in vals if np.isfinite(v)), default=1.0) or 1.0
        bars = VGroup()
        for i, (name, v) in enumerate(vals):
            frac = float(np.nan_to_num(v / top))  # linear: the bars compare the two runs honestly
            h = 0.05 + 4.0 * frac
            bar = Rectangle(
                width=1.6, height=h, stroke_width=0, fill_color=c.BACKWARD_COLOR, fill_opacity=0.3 + 0.7 * frac
            )
            bar.move_to([-2 + 4 * i, -2.2 + h / 2, 0])
            cap = c.label(f"{name}: {v:.3g}", 26 if len(name) <= 12 else 16).next_to(bar, DOWN, buff=0.2)
            bars.add(VGroup(bar, cap))
        self.play(Write(title), run_time=0.6)
        self.play(*(FadeIn(b, shift=UP * 0.3) for b in bars), run_time=0.8)
        if {c.loss_name(run), c.loss_name(other)} == {"minimax", "bce"}:
            note = c.label(
                "minimax G loss log(1 - D(G(z))) saturates when D wins; bce's -log D(G(z)) does not", 20, GREY_B
            ).to_edge(DOWN, buff=0.3)
            self.play(FadeIn(note), run_time=0.4)
        self.wait(1.5)
