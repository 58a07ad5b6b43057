package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	addr         string
	version      string
	service      string
	group        string
	cluster      string
	nacos        string
	namespace    string
	username     string
	password     string
	failHealth   bool
	drainTimeout time.Duration
	sdkDir       string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("demo-service", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:18081", "listen address, host:port; registered as such")
	fs.StringVar(&o.version, "version", "1.4.2", "version served at /version and registered as metadata")
	fs.StringVar(&o.service, "service", "order-service", "Nacos service name")
	fs.StringVar(&o.group, "group", "DEFAULT_GROUP", "Nacos group name")
	fs.StringVar(&o.cluster, "cluster", "DEFAULT", "Nacos cluster name")
	fs.StringVar(&o.nacos, "nacos", "127.0.0.1:8848", "Nacos server HTTP address (gRPC is port+1000); empty: do not register")
	fs.StringVar(&o.namespace, "namespace", "public", "Nacos namespace")
	fs.StringVar(&o.username, "username", os.Getenv("NACOS_USERNAME"), "Nacos username")
	fs.StringVar(&o.password, "password", os.Getenv("NACOS_PASSWORD"), "Nacos password")
	fs.BoolVar(&o.failHealth, "fail-health", false, "answer /health with 503")
	fs.DurationVar(&o.drainTimeout, "drain-timeout", 30*time.Second, "longest wait for in-flight requests on shutdown")
	fs.StringVar(&o.sdkDir, "sdk-dir", "", "directory for the Nacos SDK's logs and cache (default: a temp dir)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return o, fmt.Errorf("-addr %q: %v", o.addr, err)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		os.Exit(2)
	}
	if err := run(o); err != nil {
		log.Printf("demo-service: %v", err)
		os.Exit(1)
	}
}

// run serves until SIGTERM or SIGINT, then shuts down gracefully.
func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newMux(o), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Printf("demo-service %s listening on %s", o.version, o.addr)

	// Register only once the listener is ready: on Polaris a registered instance
	// takes traffic at once.
	var reg *registration
	if o.nacos != "" {
		reg, err = register(o)
		if err != nil {
			srv.Close()
			return err
		}
		log.Printf("registered %s %s in %s", o.service, o.addr, o.nacos)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if reg != nil {
			reg.deregister()
		}
		return err
	}
	log.Printf("shutting down")
	if reg != nil {
		reg.deregister()
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("in-flight requests did not finish within %s: %v", o.drainTimeout, err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Printf("stopped")
	return nil
}

// newMux serves /health, /version and /work.
func newMux(o options) *http.ServeMux {
	var inflight atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if o.failHealth {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, o.version)
	})
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		if ms < 0 || ms > 600_000 {
			http.Error(w, "ms must be 0 to 600000", http.StatusBadRequest)
			return
		}
		time.Sleep(time.Duration(ms) * time.Millisecond)
		fmt.Fprintf(w, "done %s\n", o.version)
	})
	mux.HandleFunc("/inflight", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, inflight.Load())
	})
	return mux
}
