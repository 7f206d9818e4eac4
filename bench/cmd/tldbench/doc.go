// Command tldbench is the driver of bench/run: it runs ThreatLockDown and
// fail2ban side by side on the same attack lines, each inside network
// namespaces it creates and removes, and prints one Markdown table.
//
// Every measurement waits on a condition with a deadline: a log line of the
// tool, or the kernel's own nf_tables notifications (netlink group
// NFNLGRP_NFTABLES, read in the namespace) that an address entered a set.
// Times are taken from the moment the driver appends the lines to the
// moment the notification arrives, so they include the tool's reading of
// the file. Raw results go to the results directory as JSON, with every
// process's log.
//
// It runs on Linux only, as root; bench/run builds and starts it.
package main
