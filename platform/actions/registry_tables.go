package actions

// Each OS's built-ins by name, free of build tags so that the tests on any
// OS check every OS's names; registry_GOOS.go calls its own. Linux's need
// Linux-only code and stay in registry_linux.go.

// portableBuiltin returns the built-ins that need only files and the
// network, found on every Unix: ip-customblock and the notifications.
func portableBuiltin(name string, cfg Config) (Action, bool) {
	if name == "ip-customblock" {
		return NewCustomBlock(cfg), true
	}
	return notifyBuiltin(name, cfg)
}

// notifyBuiltin returns the notifications, found on every OS.
func notifyBuiltin(name string, cfg Config) (Action, bool) {
	switch name {
	case "ossec-slack", "ossec-tweeter":
		return NewNotification(name, cfg), true
	}
	return nil, false
}

// darwinBuiltin returns macOS's built-ins: pf, route-null, restart-wazuh,
// ipfw_mac (the ipfw action under the name old macOS configs use: macOS
// has had no ipfw since 10.10, so it fails there with ErrToolMissing) and
// the portable ones. Wazuh's firewall-drop does nothing on macOS
// ("Invalid system"), and there are no TCP wrappers.
func darwinBuiltin(name string, cfg Config) (Action, bool) {
	switch name {
	case "pf":
		return NewPF(cfg), true
	case "ipfw_mac":
		return NewIPFW(cfg), true
	case "route-null":
		return NewRouteBlackhole(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return portableBuiltin(name, cfg)
}

// freebsdBuiltin returns FreeBSD's built-ins: firewall-drop (IPFilter),
// pf, ipfw (also as ipfw_mac, so a config copied from a Mac works),
// route-null, host-deny (hosts.allow), restart-wazuh and the portable ones.
func freebsdBuiltin(name string, cfg Config) (Action, bool) {
	switch name {
	case "firewall-drop":
		return NewIPFilter(cfg), true
	case "pf":
		return NewPF(cfg), true
	case "ipfw", "ipfw_mac":
		return NewIPFW(cfg), true
	case "route-null":
		return NewRouteBlackhole(cfg), true
	case "host-deny":
		return NewHostsAllow(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return portableBuiltin(name, cfg)
}

// netbsdBuiltin returns NetBSD's built-ins: firewall-drop (IPFilter), npf,
// host-deny (hosts.deny, as on Linux: Wazuh treats every system but
// FreeBSD alike), restart-wazuh and the portable ones. Wazuh's route-null
// does nothing on NetBSD ("Invalid system").
func netbsdBuiltin(name string, cfg Config) (Action, bool) {
	switch name {
	case "firewall-drop":
		return NewIPFilter(cfg), true
	case "npf":
		return NewNPF(cfg), true
	case "host-deny":
		return NewHostDeny(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return portableBuiltin(name, cfg)
}

// openbsdBuiltin returns OpenBSD's built-ins: pf, restart-wazuh and the
// portable ones. OpenBSD has no TCP wrappers, and Wazuh's other programs
// do nothing there.
func openbsdBuiltin(name string, cfg Config) (Action, bool) {
	switch name {
	case "pf":
		return NewPF(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return portableBuiltin(name, cfg)
}
