// Package metrics exports ThreatLockDown's Prometheus metrics, on an
// opt-in HTTP endpoint bound to a loopback address (`run --metrics
// 127.0.0.1:9101`, GET /metrics).
//
// Model: a Metrics is the engine's Observer (skips, command outcomes and
// durations, alert-to-action latency), wraps the Store (commit durations)
// and the tailers' handlers (alerts read per file), and counts config
// reloads; at each scrape it reads the engine's Stats, counts its table
// and stats the alerts files. Every method of a nil *Metrics does nothing,
// so the daemon wires it the same way whether metrics are on or off.
//
// Metrics (all prefixed threatlockdown_, base units):
//
//	alerts_read_total{file}                        records read from each alerts file
//	alerts_malformed_total                         records that could not be decoded
//	alerts_matched_total                           alert-response pairs that triggered
//	alerts_skipped_total{reason}                   of those, not run: white_list, location, own_address, invalid_*
//	commands_total{command,op,outcome}             adds and deletes by outcome: continue, abort, done, failed, timed_out
//	command_duration_seconds{command,op}           histogram, per run (a batch of built-in adds is one run)
//	alert_to_action_seconds{command}               histogram, from the alert handled to its add in effect
//	active_responses{command}                      entries in the table of active responses
//	reverts_overdue                                entries past their expiry whose delete has not finished
//	tail_lag_bytes{file}                           bytes of the alerts file not yet handled
//	store_commit_duration_seconds                  histogram of store writes (each waits for its fsync)
//	store_commit_errors_total                      store writes that failed
//	config_reloads_total{outcome}                  applied, invalid (kept the running config), failed (unreadable)
//	blocks_repaired_total                          blocks put back after they went missing from the OS
//	history_dropped_total                          explain's history events dropped: over 65,536 waited for one commit
//
// plus the Go runtime's (go_*) and the process's (process_*).
//
// Caveats: tail_lag_bytes compares the size of the file now at the path
// with the offset handled, so in the moments after a rotation, before an
// alert of the new file was handled, it reads the new file's whole size (or
// too little, when the new file is already longer than the old offset).
// Counts start at zero with each start of the daemon.
package metrics
