#!/usr/bin/env bash
# Make sure Debian's Chromium is at /usr/bin/chromium: the browser tests drive it with Playwright
# (executable_path=/usr/bin/chromium). Never a browser downloaded by Playwright itself.
set -euo pipefail

say() { echo "ensure_chromium: $*" >&2; }

if [[ -x /usr/bin/chromium ]]; then
  say "OK: /usr/bin/chromium"
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
  say "/usr/bin/chromium is missing, and only root may install it here."
  say "Install it, then run this again: sudo apt-get install -y chromium"
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "/usr/bin/chromium is missing and this is not a Debian-like system: install Chromium there."
  exit 1
fi
say "installing chromium with apt-get"
apt-get update >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
[[ -x /usr/bin/chromium ]] || { say "apt-get finished but /usr/bin/chromium is not there"; exit 1; }
say "OK: /usr/bin/chromium"
