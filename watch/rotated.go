package watch

import (
	"cmp"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// rotated is a file found next to the alerts file or in Wazuh's archive
// below its directory: a file that was the alerts file once, or a copy of it.
type rotated struct {
	name  string // its path
	id    string
	mod   time.Time
	size  int64
	named bool // named as a rotation names files; others are looked at only for the stored file
	rank  rank
}

// rank orders rotated files by their names. Modification times order them
// first; names decide between files written within one tick of the file
// system's clock (a few milliseconds on many kernels, a second on some file
// systems), which only happens when rotations come in bursts.
type rank struct {
	family int    // 0: Wazuh's archive, 1: next to the file
	date   string // archive: YYYYMMDD; next to the file: the digits of a date suffix
	num    int    // archive: the day's counter; next to the file: minus logrotate's number
}

func (a rotated) compare(b rotated) int {
	return cmp.Or(a.mod.Compare(b.mod), cmp.Compare(a.rank.family, b.rank.family),
		strings.Compare(a.rank.date, b.rank.date), cmp.Compare(a.rank.num, b.rank.num),
		strings.Compare(a.name, b.name))
}

// open opens the file listed. Rotations rename files (logrotate moves each
// of path.1, path.2... up by one), so should its name now be another file's,
// it is looked for again by its identity.
func (f rotated) open(path string) *source {
	for range 3 {
		s := openSource(f.name)
		if s != nil && s.id == f.id {
			return s
		}
		if s != nil {
			s.f.Close()
		}
		files := listRotated(path, false)
		i := slices.IndexFunc(files, func(g rotated) bool { return g.id == f.id })
		if i < 0 {
			return nil
		}
		f = files[i]
	}
	return nil
}

// listRotated lists the rotated files of path, oldest first: files named as
// rotations name them, and with all every other regular file next to path.
// A file renamed while the directory is read may be listed twice or not at
// all, so it is read until two readings agree (a few times at most).
func listRotated(path string, all bool) []rotated {
	files := scanRotated(path, all)
	for range 5 {
		again := scanRotated(path, all)
		if slices.EqualFunc(files, again, func(a, b rotated) bool { return a.name == b.name && a.id == b.id }) {
			break
		}
		files = again
	}
	return files
}

func scanRotated(path string, all bool) []rotated {
	dir, base := filepath.Split(path)
	dir = filepath.Clean(dir)
	var out []rotated
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rk, named := besideRank(base, e.Name())
		if (named || all) && e.Name() != base && e.Type().IsRegular() {
			out = addRotated(out, filepath.Join(dir, e.Name()), rk, named)
		}
	}
	for _, m := range archiveMonths(dir) {
		entries, _ := os.ReadDir(m.path)
		for _, e := range entries {
			if rk, ok := archiveRank(m, filepath.Ext(base), e.Name()); ok && e.Type().IsRegular() {
				out = addRotated(out, filepath.Join(m.path, e.Name()), rk, true)
			}
		}
	}
	slices.SortFunc(out, rotated.compare)
	return out
}

func addRotated(out []rotated, name string, rk rank, named bool) []rotated {
	fi, id, err := statID(name)
	if err != nil || !fi.Mode().IsRegular() {
		return out
	}
	return append(out, rotated{name: name, id: id, mod: fi.ModTime(), size: fi.Size(), named: named, rank: rk})
}

// besideRank tells whether name, next to the file base, is a rotation of it:
// base followed by a number or a date (alerts.json.1, alerts.json-20260101,
// alerts.json.2026-01-01), or the same before base's extension
// (alerts-20260101.json). Compressed files are not: they cannot be read on.
func besideRank(base, name string) (rank, bool) {
	rest, ok := strings.CutPrefix(name, base)
	if ext := filepath.Ext(base); !ok && ext != "" {
		stem := strings.TrimSuffix(base, ext)
		if strings.HasPrefix(name, stem) && strings.HasSuffix(name, ext) && len(name) > len(base) {
			rest, ok = name[len(stem):len(name)-len(ext)], true
		}
	}
	if !ok || len(rest) < 2 || !strings.ContainsRune(".-_", rune(rest[0])) {
		return rank{}, false
	}
	suffix := rest[1:]
	if suffix[0] < '0' || suffix[0] > '9' || strings.Trim(suffix, "0123456789.-_") != "" {
		return rank{}, false
	}
	if n, err := strconv.Atoi(suffix); err == nil && len(suffix) <= 4 {
		return rank{family: 1, num: -n}, true // logrotate: path.1 is the newest
	}
	digits := strings.Map(func(r rune) rune {
		if r < '0' || r > '9' {
			return -1
		}
		return r
	}, suffix)
	return rank{family: 1, date: digits}, true
}

// month is one of Wazuh's archive directories, <dir>/YYYY/Mon.
type month struct {
	path  string
	year  int
	month int // 1-12
}

var months = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// archiveMonths lists the archive directories below dir.
func archiveMonths(dir string) []month {
	var found []month
	years, _ := os.ReadDir(dir)
	for _, y := range years {
		year, err := strconv.Atoi(y.Name())
		if !y.IsDir() || len(y.Name()) != 4 || err != nil {
			continue
		}
		ms, _ := os.ReadDir(filepath.Join(dir, y.Name()))
		for _, m := range ms {
			if i := slices.Index(months, m.Name()); i >= 0 && m.IsDir() {
				found = append(found, month{filepath.Join(dir, y.Name(), m.Name()), year, i + 1})
			}
		}
	}
	return found
}

// archiveRank tells whether name, in the archive directory m, is one of
// Wazuh's rotated alerts files: ossec-alerts-DD.ext for a day's first
// rotation, ossec-alerts-DD-NNN.ext for the next ones (ext: .json or .log,
// as the file followed; the compressed .gz are not).
func archiveRank(m month, ext, name string) (rank, bool) {
	rest, ok := strings.CutSuffix(name, ext)
	if !ok || ext == "" {
		return rank{}, false
	}
	if rest, ok = strings.CutPrefix(rest, "ossec-"); !ok {
		return rank{}, false
	}
	parts := strings.Split(rest, "-") // tag, day, counter
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || strings.Trim(parts[0], "abcdefghijklmnopqrstuvwxyz") != "" {
		return rank{}, false
	}
	day, err := strconv.Atoi(parts[1])
	if err != nil || day < 1 || day > 31 {
		return rank{}, false
	}
	counter := -1
	if len(parts) == 3 {
		if counter, err = strconv.Atoi(parts[2]); err != nil || counter < 0 {
			return rank{}, false
		}
	}
	date := strconv.Itoa(m.year*10000 + m.month*100 + day)
	return rank{family: 0, date: date, num: counter}, true
}
