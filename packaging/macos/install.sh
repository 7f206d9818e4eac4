#!/bin/sh
# ThreatLockDown for macOS: installs the binary and the launchd service
# (/Library/LaunchDaemons/threatlockdown.plist, as threatlockdown.plist here
# shows it) on the install root /Library/Ossec, and starts it. As root:
#   sudo ./install.sh [ROOT]
# Uninstall: sudo threatlockdown service uninstall --root ROOT
set -eu
cd "$(dirname "$0")"
ROOT=${1:-/Library/Ossec}
arch=$(uname -m)
case "$arch" in arm64) bin=threatlockdown-darwin-arm64 ;; *) bin=threatlockdown-darwin-amd64 ;; esac
install -d -m 0755 /usr/local/bin
install -m 0755 "$bin" /usr/local/bin/threatlockdown
/usr/local/bin/threatlockdown check --root "$ROOT" >/dev/null 2>&1 || true # lays nothing out; run does
/usr/local/bin/threatlockdown service install --root "$ROOT"
/usr/local/bin/threatlockdown service start --root "$ROOT"
/usr/local/bin/threatlockdown service status --root "$ROOT"
