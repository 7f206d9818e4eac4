package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// replayProgressEvery is how often the progress bar is drawn.
const replayProgressEvery = 200 * time.Millisecond

// startReplayProgress draws a progress bar on w while files are read, when w is
// a terminal (none otherwise); the returned stop clears it.
func startReplayProgress(w io.Writer, files []*replayInput) (stop func()) {
	if !replayTerminal(w) {
		return func() {}
	}
	var total int64
	for _, f := range files {
		total += f.size
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(finished)
		tick := time.NewTicker(replayProgressEvery)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-tick.C:
				var read int64
				for _, f := range files {
					read += f.read.Load()
				}
				fmt.Fprint(w, "\r"+replayProgressLine(read, total, time.Since(start), 30))
			}
		}
	}()
	return func() { close(done); <-finished }
}

// replayTerminal reports whether w is a character device (a terminal).
func replayTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// replayProgressLine is the bar: bytes read of the total (compressed bytes for
// gzip files), the rate and the time left.
func replayProgressLine(read, total int64, elapsed time.Duration, width int) string {
	frac := 1.0
	if total > 0 {
		frac = min(float64(read)/float64(total), 1)
	}
	n := int(frac * float64(width))
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	if n > 0 && n < width {
		bar = bar[:n-1] + ">" + bar[n:]
	}
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(read) / s
	}
	left := "?"
	if rate > 0 {
		left = (time.Duration(float64(total-read) / rate * float64(time.Second))).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s] %3.0f%% %s/%s %s/s, %s left", bar, frac*100, replayMiB(read), replayMiB(total), replayMiB(int64(rate)), left)
}

func replayMiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
