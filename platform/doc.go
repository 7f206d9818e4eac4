// Package platform is ThreatLockDown's glue to the operating system: it runs
// active-response commands as processes, writes active-responses.log, and
// knows each OS's install root and boot identity.
//
// # Running commands
//
// ScriptRunner implements engine.Runner, the one seam through which the engine
// starts commands. A command is the file active-response/bin/<executable> under
// the install root, started with the install root as working directory, in a
// process group of its own. It is spoken to in one of two protocols:
//
//   - JSON (Wazuh >= 4.2): no arguments; the message is written to stdin as one
//     line. For an add the runner waits at most HandshakeWait for the first
//     line on stdout. A check_keys line is passed to the engine's CheckKeys and
//     answered with the message, its "command" set to "continue" or "abort";
//     stdin is then closed. A command that exits or stays silent is stateless.
//     A delete gets the message and a closed stdin, without a handshake.
//   - Legacy (Wazuh < 4.2, OSSEC): argv "add|delete user srcip alertid ruleid
//     location filename [extra args]", stdin at EOF, no handshake.
//
// Before each run (and in Check, which the daemon calls at start) the file
// must be safe: not writable by its group or by others, owned by root or the
// daemon's user (AnyOwner drops this one, for containers), in a directory
// that passes the same test, and, when a symlink, resolving to a file inside
// active-response/bin. Anything else is an *UnsafeError naming the file and
// the reason, and nothing runs. Commands get a minimal environment (see
// commandEnv): PATH without relative entries, LANG, LANGUAGE, LC_* and TZ,
// and nothing else of the daemon's.
//
// Every run ends within TimeLimit: then (or when the context is cancelled) the
// whole process group is killed, so helpers a script started die with it.
// Wait never blocks on pipes that a stray grandchild keeps open (WaitDelay).
// An error wrapping engine.ErrNotStarted means nothing ran (refused name,
// missing, non-executable or unsafe file, failed start); a *ScriptError is a command
// that ran and failed, with its exit status and the tail of its stderr.
//
// DryRunner runs nothing. It logs what would run and plays the handshake with
// the key a stock script would send, so that the engine's table, timers and
// deletes show up in a dry run.
//
// # active-responses.log
//
// ARLog appends lines in Wazuh's format,
//
//	YYYY/MM/DD HH:MM:SS active-response/bin/<executable>: <message>
//
// in local time, which Wazuh's decoders and rules read. The runners write, as
// Wazuh's stock scripts do, "Starting", every message exchanged (the add or
// delete JSON, check_keys, the continue/abort answer), then "Aborted" or
// "Ended", or one "Failed: ..." line. Built-in actions use Line or Printf.
//
// # Caveats
//
//   - A stock Wazuh binary writes these lines itself; run through ScriptRunner
//     with a Log, each appears twice. Give the runner a nil Log for commands
//     that log for themselves.
//   - Wazuh's scripts log the received JSON with its newline, which leaves an
//     empty line after it; ARLog writes no empty lines.
//   - A script that moves its children to another process group or session
//     (setsid, daemon) takes them out of reach of the kill at the time limit.
//     On Windows only the process itself is killed.
//   - The checks and the start are two steps: a file swapped in between
//     runs unchecked. Only root or the daemon's user can do that, since the
//     directory is checked too. Directories above active-response/bin and
//     Windows ACLs are not checked.
//   - BootID on Windows and the BSDs is derived from the boot time, which moves
//     when the clock is stepped; a spurious change makes the engine re-assert
//     its entries, which is idempotent.
package platform
