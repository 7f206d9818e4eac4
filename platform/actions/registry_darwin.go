package actions

// builtin returns this OS's built-ins: see darwinBuiltin.
func builtin(name string, cfg Config) (Action, bool) {
	return darwinBuiltin(name, cfg)
}
