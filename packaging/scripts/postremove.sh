#!/bin/sh
# ThreatLockDown: after removal (deb: remove, purge, upgrade...; rpm: 0 = erase, 1 = upgrade).
# remove: our links in active-response/bin go (only those we made, still ours).
# purge (deb) or erase (rpm, which has no purge): every block we hold is
# lifted through its delete, then our state, the ossec.conf and the
# directories we created (if empty), and the group go. Wazuh's files stay.
set -e
ROOT=/var/ossec
STATE=/var/lib/threatlockdown

remove_links() {
	[ -f "$STATE/links" ] || return 0
	while read -r link; do
		if [ -L "$link" ] && [ "$(readlink "$link")" = /usr/bin/threatlockdown ]; then
			rm -f "$link"
		fi
	done < "$STATE/links"
	rm -f "$STATE/links"
}

purge() {
	if [ -x "$STATE/threatlockdown" ] && [ -e "$ROOT/var/db/threatlockdown.db" ]; then
		"$STATE/threatlockdown" purge --root "$ROOT" || echo "threatlockdown: some blocks could not be lifted" >&2
	fi
	# the socket where this version keeps it, and where versions before 2026-12-03 did
	rm -f "$ROOT/var/db/threatlockdown.db" "$ROOT/var/run/threatlockdown/control.sock" "$ROOT/var/run/threatlockdown.sock"
	if [ -f "$STATE/created-dirs" ] && grep -qx "$ROOT/logs" "$STATE/created-dirs"; then
		rm -f "$ROOT/logs/active-responses.log" "$ROOT/logs/threatlockdown.log" # ours, in a logs/ we made
	fi
	if [ -f "$STATE/created-ossec-conf" ]; then
		rm -f "$ROOT/etc/ossec.conf"
	fi
	if [ -f "$STATE/created-dirs" ]; then
		# deepest first; only empty ones
		sort -r "$STATE/created-dirs" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	fi
	rm -rf "$STATE"
	if getent group threatlockdown >/dev/null 2>&1; then
		groupdel threatlockdown >/dev/null 2>&1 || true
	fi
}

case "$1" in
remove)
	remove_links
	;;
purge)
	remove_links
	purge
	;;
0)
	remove_links
	purge
	;;
esac
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
