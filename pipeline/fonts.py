"""The plots' font: DejaVu Sans cut down once to the scripts plots use, so each PDF's font subset is cheap.

Embedding TrueType fonts in PDFs (``pdf.fonttype=42``) makes matplotlib subset the font file for every PDF
it writes. For the full DejaVu Sans (756 kB, large kerning and substitution tables) that took ~0.2 s per
PDF, a quarter of `ganviz plots`. Subsetting a copy reduced to Latin, Greek, punctuation, arrows and math
operators takes ~0.04 s, and draws identical glyphs, kerning and hinting for those characters. The copy
is made once per machine in matplotlib's cache folder; any other character falls back to the full font.
If the copy cannot be made (read-only cache, unusual matplotlib install) the full font is used as before.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

BASE_FAMILY = "DejaVu Sans"  # matplotlib's bundled default
FAMILY = "DejaVu Sans Ganviz"  # the reduced copy's own name, so it never shadows the full font
POSTSCRIPT_NAME = "DejaVuSans-Ganviz"
_SPEC_VERSION = 1  # bump when the kept ranges or options change: a new cache file is made
# Latin-1 and Latin Extended-A, Greek, general punctuation (incl. typographic quotes, dashes, ellipsis),
# super/subscripts, arrows, math operators (incl. U+2212 minus, which tick labels use)
KEPT_RANGES = ((0x20, 0x7F), (0xA0, 0x180), (0x370, 0x400), (0x2000, 0x20A0), (0x2190, 0x2300))


def _cache_path(source: Path) -> Path:
    import fontTools
    import matplotlib

    st = source.stat()
    key = f"{source}|{st.st_size}|{st.st_mtime_ns}|{fontTools.version}|{_SPEC_VERSION}|{KEPT_RANGES}"
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    return Path(matplotlib.get_cachedir()) / f"ganviz-{POSTSCRIPT_NAME}-{digest}.ttf"


def build_reduced_font(source: Path, dest: Path) -> Path:
    """Write the reduced, renamed copy of ``source`` to ``dest`` (atomically: parallel runs may race)."""
    from fontTools import subset

    opts = subset.Options(
        glyph_names=True,
        recommended_glyphs=True,
        notdef_outline=True,
        hinting=True,
        legacy_kern=True,
        layout_features=["*"],
        name_IDs=["*"],
        name_languages=["*"],
    )
    opts.drop_tables += ["FFTM"]  # FontForge's timestamp: fontTools cannot subset it and says so on stderr
    font = subset.load_font(str(source), opts)
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=[c for lo, hi in KEPT_RANGES for c in range(lo, hi)])
    sub.subset(font)
    name = font["name"]
    # a modified Bitstream Vera derivative must not keep the original's name (the font's licence)
    for rec in list(name.names):
        if rec.nameID in (1, 16):
            name.setName(FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
        elif rec.nameID in (3, 4):
            name.setName(
                f"{FAMILY} Book" if rec.nameID == 4 else FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID
            )
        elif rec.nameID == 6:
            name.setName(POSTSCRIPT_NAME, 6, rec.platformID, rec.platEncID, rec.langID)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    font.save(str(tmp))
    font.close()
    os.replace(tmp, dest)
    return dest


@lru_cache(maxsize=1)
def plot_font_family() -> str:
    """Register the reduced font with matplotlib (building it on first use) and return its family name,
    or the full font's name when the reduced copy cannot be made."""
    from matplotlib import font_manager

    try:
        source = Path(font_manager.findfont(font_manager.FontProperties(family=BASE_FAMILY), fallback_to_default=False))
        dest = _cache_path(source)
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            build_reduced_font(source, dest)
        font_manager.fontManager.addfont(str(dest))
    except Exception:  # noqa: BLE001 - any failure here only costs speed, never the plot
        return BASE_FAMILY
    return FAMILY
