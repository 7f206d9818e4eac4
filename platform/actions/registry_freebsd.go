package actions

// builtin returns this OS's built-ins: see freebsdBuiltin.
func builtin(name string, cfg Config) (Action, bool) {
	return freebsdBuiltin(name, cfg)
}
