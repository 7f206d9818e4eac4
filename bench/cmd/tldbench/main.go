//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	b := &bench{}
	flag.StringVar(&b.tldBin, "tld", "", "the threatlockdown binary")
	flag.StringVar(&b.detectBin, "detect", "", "the tlddetect binary")
	flag.StringVar(&b.libDir, "lib", "", "bench/lib (helper scripts)")
	flag.StringVar(&b.out, "results", "", "directory for raw results")
	flag.StringVar(&b.nsPrefix, "ns-prefix", fmt.Sprintf("tldbench%d", os.Getpid()), "prefix of the network namespaces created")
	flag.Parse()
	if b.tldBin == "" || b.detectBin == "" || b.libDir == "" || b.out == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	err := b.run(ctx)
	if ctx.Err() != nil {
		err = errors.New("interrupted; cleaned up")
	}
	stop()
	b.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tldbench:", err)
		os.Exit(1)
	}
}
