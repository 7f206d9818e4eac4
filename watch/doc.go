// Package watch follows files: the alerts file that feeds the engine
// (Tailer) and the configuration file, to reload it when it changes (File).
//
// # Tailer model
//
// A Tailer reads one alerts file and hands each complete record to a handler,
// in file order, with the position just past it (engine.Position: the path,
// the file's identity and a byte offset). Positions are exact, so a caller
// that stores the position of the last handled record can restart at it and
// miss nothing and repeat nothing. Identity is device:inode on Unix and volume
// serial:file index on Windows.
//
// Where reading starts depends on the stored position:
//   - none (first start): at the end of the file, so old alerts are not acted
//     on; a file that does not exist yet is read from its start once created;
//   - the same file: at the stored offset (from 0 if the file is now shorter);
//   - another file (rotated while the daemon was down): the old file is looked
//     for next to the path and in Wazuh's archive directories <dir>/YYYY/Mon/,
//     read from the stored offset to its end, and then the new file from 0.
//
// Records: in alerts.json a record is a non-empty line without its line end;
// in alerts.log it is a block from a "** Alert " line to the next empty line,
// CRLF turned into LF. A last line without its newline is held until it is
// complete. A record longer than Tailer.MaxRecord is skipped with one log line.
// The tailer does not parse JSON.
//
// Rotation. The directory is watched with fsnotify (the file itself would be
// lost when renamed), backed by a stat check every Tailer.Poll in case events
// are dropped or unavailable. When a new file appears at the path it is
// opened at once and queued; the tailer reads the old file, which it still
// holds open, to its end before moving on, and moves on only once the new
// file has data (a writer that reopens on a signal may still append to the
// old file until then). This covers rename-and-create (Wazuh's rotation,
// logrotate's create) and remove-and-create. Copytruncate is noticed when the
// file is shorter than the offset read, or when the last bytes read have
// changed (see caveats), and the file is read again from 0.
//
// # Caveats
//
//   - Copytruncate loses what was written between the tailer's last read and
//     the truncation; that is inherent in copytruncate. A file truncated and
//     written back past the old offset cannot be told by its size; the tailer
//     compares the 64 bytes before its offset with what it read there, which
//     catches it unless the new bytes happen to be the same.
//   - The same holds while the daemon is down: a stored position in a file
//     truncated and regrown past it is trusted.
//   - Identities are reused: once a rotated file is deleted (Wazuh compresses
//     rotated alerts and removes the original), a later file may get its inode,
//     and a stored position for the old file would be taken to be in the new
//     one. A rotated file that was compressed is not found (its unread end is
//     lost, with a warning).
//   - A file that appears and is rotated away again before the tailer could
//     open it is missed. The tailer opens a new file as soon as the Create
//     event arrives, so this takes a file that lives at the path for less
//     than the process's reaction time. Measured on 2 vCPUs: of files living
//     2-5 ms at the path under a writer at full speed, 5-40 % were missed; of
//     files living 20-50 ms, none, save when the VM stalled the process for
//     that long (stalls of up to 60 ms were seen). Wazuh rotates alerts.json
//     daily by default.
//   - On Windows the tailer opens files with FILE_SHARE_DELETE so the writer
//     can rename them; a writer that deletes the file (rather than renaming
//     it) cannot create it again until the tailer has closed it.
//   - kqueue (macOS, BSD) and Windows report writes less reliably than
//     inotify; there the poll interval bounds the delay.
//
// The tailer is written on fsnotify rather than on github.com/nxadm/tail:
// that library hands out lines without (identity, offset) positions, cannot
// resume in a rotated file, reopens whatever is at the path when it notices
// a rotation, and lost or repeated lines in the same stress runs (see the
// harness in harness_test.go).
//
// # File
//
// File watches a configuration file the same way (its directory, filtered by
// name) and calls back once a burst of changes has settled.
package watch
