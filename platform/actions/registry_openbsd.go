package actions

// builtin returns OpenBSD's built-ins: pf and restart-wazuh. OpenBSD has
// no TCP wrappers, and Wazuh's other scripts do nothing there.
func builtin(name string, cfg Config) (Action, bool) {
	switch name {
	case "pf":
		return NewPF(cfg), true
	case "restart-wazuh":
		return NewRestartWazuh(cfg), true
	}
	return nil, false
}
