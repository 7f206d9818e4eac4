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
// serial:file index on Windows, followed in a position's FileID by "@" and a
// fingerprint of the file's content: FNV-1a of its first min(Offset, 1 KiB)
// bytes. An identity is reused once its file is deleted; identity and first
// bytes together tell one file from another.
//
// Where reading starts depends on the stored position:
//   - none (first start): at the end of the file, so old alerts are not acted
//     on; a file that does not exist yet is read from its start once created;
//   - the same file (identity and first bytes, and at least as long): at the
//     stored offset;
//   - anything else: the file that holds what was read is looked for among
//     the rotated files, next to the path (path.N, path-YYYYMMDD and the like)
//     and in Wazuh's archive (<dir>/YYYY/Mon/ossec-alerts-DD[-NNN].json): the
//     file itself, renamed (same identity and first bytes), or else a copy of
//     it (same first bytes, at least as long: copytruncate). It is read from
//     the stored offset to its end, then every rotated file newer than it, in
//     order, then the file at the path from 0. Rotated files are ordered by
//     modification time, and by name between files written within one tick
//     of the file system's clock. If the file is not found, its unread end is
//     lost (with a warning) and the file at the path is read from 0.
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
// logrotate's create) and remove-and-create.
//
// Copytruncate is noticed when the file is shorter than the offset read, or
// when the 64 bytes before the offset have changed, checked before and after
// each read (a truncation during a read takes back what it read). The copy
// is then looked for among the rotated files: as long as the offset, with
// the same first bytes and the same 64 bytes before the offset. The tailer
// reads on in the copy from the offset, then in any other rotated file that
// appeared unread since, then in the file from 0.
//
// Files that came and went unread: when the first bytes of the newest file
// read from its start come in, rotated files that appeared since the last
// look and start like neither this file nor a file read before are read
// first. They are incarnations of the file the tailer never saw: a
// copytruncate before it read anything of the file, or a file renamed away
// before it could be opened.
//
// # Caveats
//
//   - Copytruncate loses what is written between the copy and the truncation;
//     that is inherent in copytruncate. The unread end of a truncated file is
//     lost too (with a warning) when its copy is not found: compressed at
//     once, named unlike a rotation, or moved elsewhere.
//   - A file truncated and written back past the old offset with the same 64
//     bytes before it goes unnoticed while running. While the daemon is down
//     the first bytes tell it, unless the new content starts with the same
//     bytes as the old (up to the stored offset, at most 1 KiB).
//   - Positions stored without a fingerprint (by earlier versions) are
//     trusted on identity alone, as before: a reused inode misleads them, and
//     a copy cannot be recognised from them.
//   - path.N names are taken as logrotate's (path.1 the newest). A writer that
//     numbers the other way and rotates more than once within one tick of the
//     file system's clock (1-10 ms on Linux before 6.13, 1-2 s on some file
//     systems) has those files read in the wrong order after a restart.
//   - A directory is read until two readings agree, as renames can hide a
//     file from one. Rotations that rename files every millisecond or so
//     (logrotate moves up every path.N at each) can still hide one; it is
//     then read at a later look, out of order.
//   - A rotated file that was compressed is not read: neither the file read
//     before nor the ones rotated since. A file with a rotation's name and a
//     newer modification time than the file read before is taken as rotated
//     since, whatever put it there; one that starts like that file is taken
//     as a copy of it and skipped.
//   - A stored position at offset 0 (a first start on an empty file) tells
//     nothing about the content: copies made while down are taken as older.
//   - A file that appears and is rotated away again before the tailer could
//     open it is read late if it is still there, uncompressed, when the next
//     file starts (after files read meanwhile, in a burst); otherwise it is
//     missed. The tailer opens a new file as soon as the Create event
//     arrives, so this takes a file that lives at the path for less than the
//     process's reaction time. Measured on 2 vCPUs: of files living 2-5 ms at
//     the path under a writer at full speed, 5-40 % were missed; of files
//     living 20-50 ms, none, save when the VM stalled the process for that
//     long (stalls of up to 60 ms were seen). Wazuh rotates alerts.json daily
//     by default.
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
