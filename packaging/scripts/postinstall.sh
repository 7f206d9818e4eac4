#!/bin/sh
# ThreatLockDown: after install or upgrade (deb: configure; rpm: 1 or 2).
# Lays out what is missing of the install root, never changing what is
# there: on a host where Wazuh owns /var/ossec, none of its files changes.
set -e
ROOT=/var/ossec
BIN=/usr/bin/threatlockdown
STATE=/var/lib/threatlockdown   # what we created, so that removal takes only that

getent group threatlockdown >/dev/null 2>&1 || groupadd --system threatlockdown
install -d -m 0750 "$STATE"

# The install root, Wazuh's layout: directories that are missing only.
for d in "" etc logs logs/alerts active-response active-response/bin var var/db var/run; do
	if [ ! -e "$ROOT/$d" ]; then
		install -d -m 0750 -o root -g threatlockdown "$ROOT/$d"
		echo "$ROOT/$d" >> "$STATE/created-dirs"
	fi
done
# The control socket's own directory: root only. var/run itself may be
# Wazuh's (root:wazuh 0770, its daemons write there) and is left as it is.
if [ ! -e "$ROOT/var/run/threatlockdown" ]; then
	install -d -m 0700 -o root -g root "$ROOT/var/run/threatlockdown"
	echo "$ROOT/var/run/threatlockdown" >> "$STATE/created-dirs"
fi

# The default ossec.conf, only where there is none (upgrades never touch it).
if [ ! -e "$ROOT/etc/ossec.conf" ]; then
	install -m 0640 -o root -g threatlockdown /usr/share/threatlockdown/ossec.conf "$ROOT/etc/ossec.conf"
	touch "$STATE/created-ossec-conf"
fi

# Built-in actions as links, only where no file of that name exists: a
# Wazuh agent's execd can run them, and our daemon runs them in-process.
for name in firewall-drop firewalld-drop host-deny route-null disable-account restart-wazuh ip-customblock ossec-slack ossec-tweeter; do
	link="$ROOT/active-response/bin/$name"
	if [ ! -e "$link" ] && [ ! -L "$link" ]; then
		ln -s "$BIN" "$link"
		echo "$link" >> "$STATE/links"
	fi
done

wazuh=no
if [ -x "$ROOT/bin/wazuh-control" ] || [ -x "$ROOT/bin/wazuh-execd" ]; then
	wazuh=yes
fi

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ "$wazuh" = yes ]; then
		echo "threatlockdown: Wazuh is installed in $ROOT: the service is installed but not enabled or started," >&2
		echo "threatlockdown: so that no response runs twice. See the README (\"With Wazuh installed\")." >&2
	else
		systemctl enable threatlockdown.service >/dev/null 2>&1 || true
		# A fresh install starts; an upgrade restarts a running service.
		systemctl try-restart threatlockdown.service >/dev/null 2>&1 || true
		systemctl start threatlockdown.service || echo "threatlockdown: the service did not start; see journalctl -u threatlockdown" >&2
	fi
else
	echo "threatlockdown: systemd is not running here: start the daemon with 'threatlockdown service install' (SysV) or 'threatlockdown run'." >&2
fi
exit 0
