// Package platform is ThreatLockDown's glue to the operating system: it runs
// active-response commands as processes, writes active-responses.log,
// knows each OS's install root and boot identity, and on Linux asks for
// huge pages for the heap that storms grow (hugepages_linux.go).
//
// # Running commands
//
// Runner implements engine.Runner (and Grouper, Reasserter, Repairer), the
// one seam through which the engine starts commands. A command whose file
// active-response/bin/<executable> exists is run as a process; otherwise,
// or when that file is a link to this very binary, the built-in action of
// that name runs in-process (package actions). A process starts with the
// install root as working directory, in a process group of its own, and is
// spoken to in one of two protocols:
//
//   - JSON (Wazuh >= 4.2): started as active-response/bin/<executable>,
//     relative to the root, as Wazuh's execd does (Wazuh's programs name their
//     log lines by argv[0]); no arguments; the message is written to stdin as
//     one line. For an add the runner waits at most HandshakeWait for the
//     first line on stdout. A check_keys line is passed to the engine's
//     CheckKeys and answered with the message, its "command" set to
//     "continue" or "abort"; stdin is then closed. A command that exits or
//     stays silent is stateless. A delete gets the message and a closed
//     stdin, without a handshake.
//   - Legacy (Wazuh < 4.2, OSSEC): started by its absolute path, argv
//     "add|delete user srcip alertid ruleid location filename extra_args",
//     only the fields <expect> lists filled, the rest "-"; stdin at EOF, no
//     handshake.
//
// On Windows an <executable> without an extension is found as .exe, .cmd,
// .bat or .ps1 (two matches are an error); .cmd and .bat run through
// cmd.exe /c, .ps1 through powershell.exe -File.
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
// Every run, built-ins too, ends within TimeLimit: then (or when the context
// is cancelled) the whole process group is killed, so helpers a script
// started die with it. Wait never blocks on pipes that a stray grandchild
// keeps open (WaitDelay). An error wrapping engine.ErrNotStarted means
// nothing ran (refused name, missing, ambiguous, non-executable or unsafe
// file, failed start); a *ScriptError is a command that ran and failed, with
// its exit status and the tail of its stderr.
//
// In a dry run (DryRun) nothing runs: the runner logs which would run, the
// checked file or the built-in, and answers an add's check_keys with the key
// the command would send (Target.Key for a script), so that the engine's
// table, timers and deletes show up.
//
// # active-responses.log
//
// ARLog appends lines in Wazuh's format,
//
//	YYYY/MM/DD HH:MM:SS active-response/bin/<executable>: <message>
//
// in local time, which Wazuh's decoders and rules read. Only built-in
// actions write there, exactly the lines Wazuh's program of that name
// writes. For files the runner writes nothing, as Wazuh's execd writes
// nothing: a program logs its own lines, and a second copy would count
// every block twice in Wazuh's rules. The daemon's own log (slog) records
// every run: start and exit with its duration at Info, message bodies at
// Debug. A dry run writes nothing there either.
//
// # Caveats
//
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
