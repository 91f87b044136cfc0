#!/usr/bin/env bash
# One-time set-up: system libraries for Cairo/Pango (pycairo and manimpango build from source),
# a virtual environment in .venv, torch, ganviz with its dev extras, and reveal.js for `ganviz lecture`'s HTML deck;
# Chromium, which the tests open that deck in.
#
# Debian/Ubuntu: the system packages are installed with apt-get. Elsewhere this says in one line what to
# install (Homebrew, dnf, pacman ...) and goes on: pip then needs them only to build pycairo and manimpango.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# The exact torch of the development and CI machines (their pip takes these builds from local disk). Where they
# do not exist (macOS, aarch64, another Python), pip installs a torch of the range pyproject.toml declares.
TORCH=${TORCH:-torch==2.14.1 torchvision==0.29.1}

if command -v dpkg >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    # chromium: the tests open the lecture's HTML deck in it (headless, from file://, network blocked)
    pkgs=(libcairo2-dev libpango1.0-dev pkg-config chromium)
    missing=()
    for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "setup: installing system packages: ${missing[*]}"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
elif ! pkg-config --exists cairo pangocairo 2>/dev/null; then
    case "$(uname -s)" in
        Darwin) hint="brew install cairo pango pkg-config" ;;
        *) hint="your package manager's Cairo and Pango development files and pkg-config (dnf install cairo-devel pango-devel pkgconf-pkg-config; pacman -S cairo pango pkgconf; zypper install cairo-devel pango-devel pkg-config)" ;;
    esac
    echo "setup: Cairo/Pango development files not found and this is not Debian/Ubuntu: install them with: $hint"
fi

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086  # TORCH is a list of requirements
"$VENV/bin/python" -m pip install -q $TORCH \
    || echo "setup: $TORCH is not available here; pip installs a torch of the range in pyproject.toml instead"
"$VENV/bin/python" -m pip install -q -e ".[dev]"

# reveal.js (MIT) for the lecture's HTML deck, from the npm registry's release tarball, its checksum verified; only
# dist/, the notes plugin and the licence are kept, under the venv (the repository holds no third-party code).
# `ganviz lecture` copies them into each deck, which then presents from the file system with no network.
REVEAL_VERSION=5.2.1
REVEAL_SHA256=359b575dd51bbda32f89b2fd4c7dc46ad7389a805572158916c29252f7a27333
REVEAL_DIR="$VENV/share/ganviz/reveal.js"
if [ "$(cat "$REVEAL_DIR/VERSION" 2>/dev/null)" != "$REVEAL_VERSION" ]; then
    echo "setup: downloading reveal.js $REVEAL_VERSION"
    "$VENV/bin/python" - "$REVEAL_VERSION" "$REVEAL_SHA256" "$REVEAL_DIR" <<'PY'
import hashlib, io, shutil, sys, tarfile, urllib.request
from pathlib import Path

version, sha256, dest = sys.argv[1], sys.argv[2], Path(sys.argv[3])
url = f"https://registry.npmjs.org/reveal.js/-/reveal.js-{version}.tgz"
data = urllib.request.urlopen(url, timeout=60).read()
if hashlib.sha256(data).hexdigest() != sha256:
    sys.exit(f"setup: {url}: checksum mismatch; not installing it")
keep = ("package/dist/", "package/plugin/notes/", "package/LICENSE")
shutil.rmtree(dest, ignore_errors=True)
with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
    for m in tar.getmembers():
        if m.isfile() and m.name.startswith(keep) and ".." not in m.name and not m.name.endswith(".map"):
            target = dest / m.name.removeprefix("package/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(m).read())
(dest / "VERSION").write_text(version)
PY
fi
touch "$VENV/.ganviz-installed"
echo "setup: done ($VENV)"
