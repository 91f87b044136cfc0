#!/usr/bin/env bash
# One-time set-up: system libraries for Cairo/Pango (pycairo and manimpango build from source),
# a virtual environment in .venv, torch, and ganviz with its dev extras.
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
    pkgs=(libcairo2-dev libpango1.0-dev pkg-config)
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
touch "$VENV/.ganviz-installed"
echo "setup: done ($VENV)"
