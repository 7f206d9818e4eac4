// Package ossecconf reads Wazuh 4.x's ossec.conf into an *engine.Config.
//
// The model is Wazuh's: a file holds one or more <ossec_config> roots, read in
// order. Only three of their top-level sections matter here:
//
//   - <command> defines a script in active-response/bin by name;
//   - <active-response> binds a command to the alerts that trigger it;
//   - <global><white_list> lists source addresses never to respond to.
//
// Every other section (<localfile>, <syscheck>, <ruleset>, ...) is skipped
// without a look, including children that share a name with ours, such as
// <localfile><command>. Inside <global> only <white_list> is read.
//
// Parse validates as it reads and never stops at the first problem: every
// error in the sections it uses is reported, each as an *Error naming the file
// and line, and all are returned joined (errors.Join). A file with any error
// yields no Config, so a live reload keeps the config it had.
//
// Where Wazuh is lax this package is stricter, and says so in the error:
// negative timeouts, non-numeric rule ids and executables that are paths are
// refused. Where Wazuh's own parser is lax about XML (a bare "&" in a
// <localfile> command), so is this one. See the spec, section A1.
//
// A file without an <ossec_config> root (empty, blank, or only comments) is
// an error, not a config without responses: an editor that truncates the
// file before writing it must not lift every response and the white list.
// A file that means to configure nothing says so with <ossec_config/>.
//
// Caveats:
//   - A <command> must come before the <active-response> that names it, as
//     Wazuh requires; the error says so when the order is the only problem.
//   - Of two <command> blocks with one name, the first wins.
//   - An <active-response> without <command> is the agent-side block: its
//     <disabled> switches active response off as a whole (the first such
//     <disabled> counts, as in Wazuh's execd) and its <repeated_offenders>
//     applies to every response that has no list of its own.
//   - A timeout on a command whose timeout_allowed is no is forced to 0.
//   - <protocol>json|legacy</protocol> in <command> is ThreatLockDown's
//     extension: legacy runs old scripts with Wazuh < 4.2's argv protocol.
package ossecconf
