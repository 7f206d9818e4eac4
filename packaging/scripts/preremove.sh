#!/bin/sh
# ThreatLockDown: before removal (deb: remove, upgrade; rpm: 0 = erase, 1 = upgrade).
# Removal stops the service; blocks and pending reverts stay in the store
# until a purge (deb) or the erase (rpm) lifts them. An upgrade leaves the
# service running: postinstall restarts it.
set -e
case "$1" in
upgrade|1) exit 0 ;;
esac
if [ -d /run/systemd/system ]; then
	systemctl stop threatlockdown.service >/dev/null 2>&1 || true
	systemctl disable threatlockdown.service >/dev/null 2>&1 || true
fi
# Keep the binary for a purge after removal: it lifts the blocks.
install -d -m 0750 /var/lib/threatlockdown
cp -p /usr/bin/threatlockdown /var/lib/threatlockdown/threatlockdown
exit 0
