package watch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/fsnotify/fsnotify"
)

const testDebounce = 50 * time.Millisecond

// watched starts File on dir/ossec.conf and returns a counter of calls. It
// returns once File is known to watch: after a first change was seen.
func watched(t *testing.T) (path string, calls *atomic.Int32) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "ossec.conf")
	writeConf(t, path, "<ossec_config/>")
	calls = new(atomic.Int32)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- File(ctx, path, testDebounce, func() { calls.Add(1) }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("File: %v", err)
		}
	})
	for try := 0; calls.Load() == 0; try++ { // File may not be watching yet: touch until it is
		if try == 20 {
			t.Fatal("File never called back")
		}
		writeConf(t, path, "<ossec_config/>")
		time.Sleep(4 * testDebounce)
	}
	time.Sleep(2 * testDebounce)
	calls.Store(0)
	return path, calls
}

func writeConf(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFile(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string)
		want   int32
	}{
		{"write", func(t *testing.T, path string) { writeConf(t, path, "<ossec_config>1</ossec_config>") }, 1},
		{"rename over (vim)", func(t *testing.T, path string) {
			if err := os.Rename(path, path+"~"); err != nil { // vim's backup
				t.Fatal(err)
			}
			tmp := filepath.Join(filepath.Dir(path), ".ossec.conf.swp")
			writeConf(t, tmp, "<ossec_config>2</ossec_config>")
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}, 1},
		{"other files ignored", func(t *testing.T, path string) {
			writeConf(t, filepath.Join(filepath.Dir(path), "ossec.conf.bak"), "x")
		}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path, calls := watched(t)
			tt.change(t, path)
			time.Sleep(4 * testDebounce)
			if got := calls.Load(); got != tt.want {
				t.Errorf("changed called %d times, want %d", got, tt.want)
			}
		})
	}
}

func TestFile_MissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent", "ossec.conf")
	if err := File(context.Background(), path, 0, func() {}); err == nil {
		t.Error("File watched a directory that does not exist")
	}
}

// TestFile_FirstCheck: File calls back once as soon as it watches, so a
// change made before the watch was in place is not missed.
func TestFile_FirstCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ossec.conf")
	writeConf(t, path, "<ossec_config/>")
	called := make(chan struct{}, 10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go File(ctx, path, time.Hour, func() { called <- struct{}{} })
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("no first call")
	}
	select {
	case <-called:
		t.Error("a second call without any change")
	case <-time.After(100 * time.Millisecond):
	}
}

// TestFollow_Debounce drives File's loop with notifications on a fake
// clock (testing/synctest): a burst collapses into one call once it has
// been quiet for the debounce, other names and bare attribute changes are
// ignored, an error counts as a change, and the first check comes at once.
func TestFollow_Debounce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const debounce = 100 * time.Millisecond
		events := make(chan fsnotify.Event)
		errs := make(chan error)
		var calls atomic.Int32
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- follow(ctx, "/etc/ossec.conf", events, errs, debounce, func() { calls.Add(1) }) }()
		want := func(n int32, when string) {
			t.Helper()
			synctest.Wait()
			if got := calls.Load(); got != n {
				t.Fatalf("%s: %d calls, want %d", when, got, n)
			}
		}
		want(1, "at start")

		for range 10 { // a burst: a write every 20 ms
			events <- fsnotify.Event{Name: "/etc/ossec.conf", Op: fsnotify.Write}
			time.Sleep(debounce / 5)
		}
		want(1, "during the burst")
		time.Sleep(debounce)
		want(2, "once the burst was quiet")

		events <- fsnotify.Event{Name: "/etc/ossec.conf.bak", Op: fsnotify.Write}
		events <- fsnotify.Event{Name: "/etc/ossec.conf", Op: fsnotify.Chmod}
		time.Sleep(2 * debounce)
		want(2, "other names and attribute changes")

		errs <- errors.New("queue overflow")
		time.Sleep(debounce)
		want(3, "after a notification error")

		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
