#!/bin/sh
# The headless browser the report test opens the HTML stack report in: Debian's chromium.
# Installed with apt-get when missing and this runs as root (CI does); otherwise says how to install it.
set -eu
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure_chromium: chromium is not installed; install Debian's chromium (sudo apt-get install chromium) for the report test" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
}
echo "ensure_chromium: $(chromium --version)"
