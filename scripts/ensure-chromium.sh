#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium (the browser test drives it with playwright-core).
# Installs it with apt-get when missing (needs root, or sudo without a password); does nothing when present.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  "$CHROMIUM" --version
  exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "ensure-chromium: $CHROMIUM is missing and this user cannot install it (no root, no sudo)" >&2; exit 1; }
  SUDO="sudo -n"
fi
echo "ensure-chromium: installing chromium with apt-get (takes a while)" >&2
# Wait for another apt/dpkg run to finish instead of failing on its lock.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium
"$CHROMIUM" --version
