"""Make the small looping GIF the README embeds, from a real run (reproducible, not hand-made).

    python scripts/readme_gif.py RUN [--scene distribution] [--width 400] [--fps 8] [-o docs/img/NAME.gif]

manim's own GIF (`ganviz render --format gif`) is dithered for fidelity, which makes smooth heatmaps
several MB; here the scene is rendered as MP4 and re-encoded with one shared palette and no dithering.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--scene", default="distribution", help="built-in scene name")
    ap.add_argument("--width", type=int, default=400)
    ap.add_argument("--fps", type=float, default=8)
    ap.add_argument("--colors", type=int, default=128)
    ap.add_argument("-o", "--out", type=Path)
    args = ap.parse_args()

    import av
    import numpy as np
    from PIL import Image

    from pipeline.errors import GanvizError
    from pipeline.render import builtin_scene_path, render_file
    from pipeline.run import Run

    try:
        run = Run.load(args.run)
        with tempfile.TemporaryDirectory() as tmp:
            (video,) = render_file(builtin_scene_path(args.scene), run, out=Path(tmp), progress=False,
                                   pixel_width=args.width, frame_rate=args.fps)  # fmt: skip
            with av.open(str(video)) as box:
                frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    except GanvizError as e:
        sys.exit(f"error: {e}")
    # one palette for the whole clip, from a strip of frames spread over it
    strip = np.concatenate([frames[i] for i in np.linspace(0, len(frames) - 1, 8).astype(int)], axis=0)
    palette = Image.fromarray(strip).quantize(colors=args.colors, method=Image.Quantize.MEDIANCUT)
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames]
    out = args.out or Path("docs/img") / f"{args.scene}.gif"
    out.parent.mkdir(parents=True, exist_ok=True)
    images[0].save(out, save_all=True, append_images=images[1:], duration=round(1000 / args.fps), loop=0,
                   optimize=True)  # fmt: skip
    print(f"{out}: {len(images)} frames, {out.stat().st_size / 1e6:.2f} MB, from {run.name}")


if __name__ == "__main__":
    main()
