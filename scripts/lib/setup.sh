# Shared setup for scripts/run, scripts/test and scripts/package. Sourced, not run.
# Everything here is idempotent: a second run on a set-up machine does nothing slow.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CLAUDE_USAGE_GAUGE_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

# Debian packages: the tray hosts for the tests (Xvfb, trayer for the old XEmbed path; the real
# status-notifier-watcher and gtk-sni-tray-standalone for StatusNotifierItem; dbus, dunst,
# xdotool, imagemagick), headless Chromium for the history page's screenshots, the GTK stack
# pystray uses for menus in XEmbed trays, and the headers PyGObject builds against. The SNI tray
# itself needs none of the GTK packages.
RUNTIME_DEBS=(gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 gir1.2-notify-0.7 libgirepository1.0-dev
  libcairo2-dev pkg-config python3-dev)
TEST_DEBS=(xvfb trayer dbus dbus-x11 dunst xdotool imagemagick desktop-file-utils x11-utils
  fonts-dejavu-core chromium haskell-status-notifier-item-utils haskell-gtk-sni-tray-utils
  systemd  # systemd only for busctl, the D-Bus client the SNI tests read the tray with
  lintian)  # checks the .deb that scripts/package makes (tests/system/test_deb_package.py)

_missing_debs() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

ensure_debs() {
  command -v dpkg-query >/dev/null 2>&1 || { echo "setup: not a Debian-like system; skipping system packages" >&2; return 0; }
  local missing
  missing=$(_missing_debs "$@")
  [ -z "$missing" ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "setup: please install these packages as root: $missing" >&2; return 1
    fi
  fi
  echo "setup: installing system packages: $(echo $missing | tr '\n' ' ')" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# Python packages come from uv.lock (every package pinned, with its hashes, for every OS): uv
# installs them, and uv itself comes from PyPI pinned and hashed in uv-requirements.txt.
UV_REQUIREMENTS="$ROOT/scripts/lib/uv-requirements.txt"
UV="$VENV/bin/uv"

ensure_uv() {
  local want
  want=$(sed -n 's/^uv==\([^ ]*\).*/\1/p' "$UV_REQUIREMENTS")
  if [ -x "$UV" ] && [ "$("$UV" --version | cut -d' ' -f2)" = "$want" ]; then
    return 0
  fi
  "$PY" -m pip install -q --disable-pip-version-check --require-hashes --no-deps \
    -r "$UV_REQUIREMENTS"
}

# sni_desktop: a StatusNotifierWatcher (the tray of today's Linux desktops) is on the session bus.
# Our own StatusNotifierItem needs neither GTK nor PyGObject there, so nothing is built for it.
# Asked with whichever D-Bus client the desktop has; with none, or no session bus, it says no.
SNI_WATCHER=org.kde.StatusNotifierWatcher
sni_desktop() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || [ -S "${XDG_RUNTIME_DIR:-/nonexistent}/bus" ] || return 1
  local answer=""
  if command -v dbus-send >/dev/null 2>&1; then
    answer=$(timeout 5 dbus-send --session --print-reply --dest=org.freedesktop.DBus \
      /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner "string:$SNI_WATCHER" 2>/dev/null) || return 1
  elif command -v busctl >/dev/null 2>&1; then
    answer=$(timeout 5 busctl --user call org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus NameHasOwner s "$SNI_WATCHER" 2>/dev/null) || return 1
  else
    return 1
  fi
  case "$answer" in *true*) return 0 ;; *) return 1 ;; esac
}

# venv_ready "linux": the venv exists and was synced with these extras since pyproject.toml and
# uv.lock last changed (so ensure_venv has nothing to do).
venv_ready() {
  local stamp="$VENV/.installed-${1:-base}"
  [ -x "$PY" ] && [ -f "$stamp" ] && [ ! "$ROOT/pyproject.toml" -nt "$stamp" ] && [ ! "$ROOT/uv.lock" -nt "$stamp" ]
}

# ensure_venv "dev,linux": the venv at $VENV with the project (editable) and these extras, exactly
# as uv.lock pins them. `--locked` refuses a lock that no longer matches pyproject.toml (run
# scripts/lock); `--inexact` keeps what other extras installed, so scripts/run after scripts/test
# does not strip the test tools (nor uv itself, which is not in the lock).
ensure_venv() {
  local extras="$1" stamp="$VENV/.installed-${1:-base}" extra
  local -a args=()
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV"
  fi
  # Sync only when pyproject.toml or uv.lock changed since the last sync of these extras.
  if [ ! -f "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ] || [ "$ROOT/uv.lock" -nt "$stamp" ]; then
    ensure_uv
    IFS=, read -ra extras_list <<<"$extras"
    for extra in "${extras_list[@]}"; do args+=(--extra "$extra"); done
    (cd "$ROOT" && UV_PROJECT_ENVIRONMENT="$VENV" UV_PYTHON_DOWNLOADS=never \
      "$UV" sync --quiet --locked --inexact --python "$PY" ${args[@]+"${args[@]}"})
    touch "$stamp"
  fi
}
