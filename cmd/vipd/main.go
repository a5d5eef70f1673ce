// Command vipd is the node daemon: keepalived's job for a pair of nginx
// load balancers, reading the same keepalived.conf. See package node.
//
//	vipd -f /etc/keepalived/keepalived.conf   run the daemon
//	vipd -t -f FILE                           check a configuration, like nginx -t
//	vipd -init                                print a sample configuration
//	vipd status [--json]                      ask the running daemon (also watch, ctl)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/vipkit/vip/node"
	"github.com/vipkit/vip/node/config"
	"github.com/vipkit/vip/node/control"
)

// exitConfig (EX_CONFIG) says the configuration was refused: systemd's
// RestartPreventExitStatus=78 then does not restart vipd in a loop.
const exitConfig = 78

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "status", "watch", "ctl":
			return client(args[0], args[1:], stdout, stderr)
		}
	}
	fs := flag.NewFlagSet("vipd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "/etc/keepalived/keepalived.conf", "keepalived configuration `file`")
	test := fs.Bool("t", false, "check the configuration, print its effective values and failover budget, and exit")
	sample := fs.Bool("init", false, "print a sample configuration and exit")
	socket := fs.String("socket", control.DefaultSocketPath, "control socket `path`")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	debugLog := fs.Bool("debug", false, "log debug messages")
	metricsAddr := fs.String("metrics", "", "serve Prometheus metrics on `host:port` (/metrics)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "vipd: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	case *showVersion:
		fmt.Fprintln(stdout, "vipd", buildVersion())
		return 0
	case *sample:
		fmt.Fprint(stdout, config.Sample)
		return 0
	case *test:
		if !node.CheckFile(stdout, stderr, *file, node.OS{}) {
			return 1
		}
		return 0
	}

	// SIGHUP would kill us until it is handled: take it before anything.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	level := slog.LevelInfo
	if *debugLog {
		level = slog.LevelDebug
	}
	var h slog.Handler = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	if *logJSON {
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	}
	log := slog.New(h)

	d, err := node.New(node.Options{ConfigPath: *file, Logger: log, Version: buildVersion()})
	if err != nil {
		log.Error("vipd cannot start", "err", err)
		return exitConfig
	}
	ln, err := control.ListenUnix(*socket)
	if err != nil {
		log.Error("vipd cannot start", "err", err)
		return 1
	}
	var mln net.Listener
	if *metricsAddr != "" {
		if mln, err = net.Listen("tcp", *metricsAddr); err != nil {
			ln.Close()
			log.Error("vipd cannot start", "err", fmt.Errorf("failed to listen for metrics on %s: %w", *metricsAddr, err))
			return 1
		}
	}

	var wg sync.WaitGroup
	wg.Go(func() {
		if err := control.Serve(ctx, ln, d, log.With("component", "control")); err != nil {
			log.Error("control socket failed", "err", err)
		}
	})
	if mln != nil {
		srv := &http.Server{Handler: metricsHandler(d, log.With("component", "metrics")), ReadHeaderTimeout: 5 * time.Second}
		wg.Go(func() {
			if err := srv.Serve(mln); !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics server failed", "err", err)
			}
		})
		context.AfterFunc(ctx, func() { srv.Close() })
	}
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log.Info("SIGHUP: reloading", "config", *file)
				if err := d.Reload(ctx); err == nil {
					log.Info("configuration reloaded", "config", *file)
				}
			}
		}
	})
	err = d.Run(ctx)
	stop()
	wg.Wait()
	if err != nil {
		log.Error("vipd failed", "err", err)
		return 1
	}
	return 0
}
