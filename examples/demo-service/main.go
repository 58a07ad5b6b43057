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
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Environment variables that give flags their defaults, so that a deploy script (or
// nonstop's deploy step) can set them without touching the command line.
const (
	// EnvStartDelay is -start-delay: a Go duration ("3s") or seconds ("1.5").
	EnvStartDelay = "NONSTOP_DEMO_START_DELAY"
	// EnvWarmup is -warmup, in the same forms.
	EnvWarmup = "NONSTOP_DEMO_WARMUP"
	// EnvRegisterEnabled is -register-enabled ("false" registers the instance
	// disabled); nonstop's deploy step sets it.
	EnvRegisterEnabled = "NONSTOP_REGISTER_ENABLED"
	// EnvSpringEnabled is the Spring Cloud Alibaba spelling of the same setting
	// (spring.cloud.nacos.discovery.instance-enabled); NONSTOP_REGISTER_ENABLED wins.
	EnvSpringEnabled = "SPRING_CLOUD_NACOS_DISCOVERY_INSTANCE_ENABLED"
)

// maxHold bounds /work?ms= and /slow?d=.
const maxHold = 10 * time.Minute

// options are the command-line flags.
type options struct {
	addr            string
	version         string
	service         string
	group           string
	cluster         string
	nacos           string
	namespace       string
	username        string
	password        string
	failHealth      bool
	drainTimeout    time.Duration
	sdkDir          string
	startDelay      time.Duration
	warmup          time.Duration
	registerEnabled bool
	gatewayTo       string // gateway mode: the service requests are proxied to
	gatewayGroup    string
	wsTick          time.Duration // how often /ws sends a tick
}

func parseFlags(args []string) (options, error) {
	var o options
	startDelay, err := envDuration(EnvStartDelay)
	if err != nil {
		return o, err
	}
	warmup, err := envDuration(EnvWarmup)
	if err != nil {
		return o, err
	}
	enabled, err := envRegisterEnabled()
	if err != nil {
		return o, err
	}
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
	fs.DurationVar(&o.startDelay, "start-delay", startDelay, "wait this long before opening the port, like an application that loads (default $"+EnvStartDelay+")")
	fs.DurationVar(&o.warmup, "warmup", warmup, "after the port opens, answer every request with 503 for this long, then register (default $"+EnvWarmup+")")
	fs.StringVar(&o.gatewayTo, "gateway-to", os.Getenv(EnvGatewayTo), "gateway mode: proxy every path but /health, /version and /gateway/instances to an instance of this registered service (default $"+EnvGatewayTo+")")
	fs.StringVar(&o.gatewayGroup, "gateway-group", envOr(EnvGatewayGroup, "DEFAULT_GROUP"), "the Nacos group of -gateway-to (default $"+EnvGatewayGroup+" or DEFAULT_GROUP)")
	fs.DurationVar(&o.wsTick, "ws-tick", 500*time.Millisecond, "how often /ws sends a tick to each websocket")
	fs.BoolVar(&o.registerEnabled, "register-enabled", enabled, "register the instance enabled; false registers it disabled, out of consumers' lists (default $"+EnvRegisterEnabled+" or $"+EnvSpringEnabled+", else true)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if _, _, err := net.SplitHostPort(o.addr); err != nil {
		return o, fmt.Errorf("-addr %q: %v", o.addr, err)
	}
	if o.wsTick <= 0 {
		return o, errors.New("-ws-tick must be positive")
	}
	if o.startDelay < 0 || o.warmup < 0 {
		return o, errors.New("-start-delay and -warmup must not be negative")
	}
	if o.gatewayTo != "" && o.nacos == "" {
		return o, errGatewayWithoutRegistry
	}
	return o, nil
}

// envOr returns the environment variable name, or def when it is unset or empty.
func envOr(name, def string) string {
	if s := strings.TrimSpace(os.Getenv(name)); s != "" {
		return s
	}
	return def
}

// envDuration reads a duration from the environment: "3s", "250ms" or plain seconds
// ("3", "1.5"); unset or empty is 0.
func envDuration(name string) (time.Duration, error) {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return 0, nil
	}
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("$%s=%q is neither a duration nor a number of seconds", name, s)
	}
	return d, nil
}

// envRegisterEnabled reads NONSTOP_REGISTER_ENABLED, else the Spring form; true
// when neither is set.
func envRegisterEnabled() (bool, error) {
	for _, name := range []string{EnvRegisterEnabled, EnvSpringEnabled} {
		if s := strings.TrimSpace(os.Getenv(name)); s != "" {
			b, err := strconv.ParseBool(s)
			if err != nil {
				return false, fmt.Errorf("$%s=%q is not a boolean", name, s)
			}
			return b, nil
		}
	}
	return true, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "demo-service:", err)
		}
		os.Exit(2)
	}
	if err := run(o); err != nil {
		log.Printf("demo-service: %v", err)
		os.Exit(1)
	}
}

// run starts like a real application — the port opens after -start-delay, every
// request answers 503 for -warmup, then the instance registers — and serves until
// SIGTERM or SIGINT, then shuts down gracefully: deregister, stop accepting
// connections, finish the requests in flight.
func run(o options) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// A gateway starts resolving its upstream service while it loads, as a Spring
	// Cloud Gateway's load balancer client does, so that it knows where to route
	// by the time it is ready.
	var gw *gateway
	if o.gatewayTo != "" {
		var err error
		if gw, err = startGateway(o); err != nil {
			return err
		}
		defer gw.close()
	}

	if o.startDelay > 0 {
		log.Printf("demo-service %s starting on %s: port opens in %s", o.version, o.addr, o.startDelay)
		if !sleep(ctx, o.startDelay) {
			log.Printf("stopped before the port opened")
			return nil
		}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	app := newApp(o)
	app.gw = gw
	srv := &http.Server{Handler: app.handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Printf("demo-service %s listening on %s (warm-up %s)", o.version, o.addr, o.warmup)

	var reg *registration
	shutdown := func() error {
		log.Printf("shutting down")
		if reg != nil {
			reg.deregister()
		}
		shutdownCtx, cancel := context.WithTimeout(context.Background(), o.drainTimeout)
		defer cancel()
		err := srv.Shutdown(shutdownCtx)
		// Websockets are hijacked: Shutdown neither waits for nor closes them.
		// They are closed once the requests in flight are done.
		app.closeWebsockets()
		if err != nil {
			return fmt.Errorf("in-flight requests did not finish within %s: %v", o.drainTimeout, err)
		}
		if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		log.Printf("stopped")
		return nil
	}

	if o.warmup > 0 && !sleep(ctx, o.warmup) {
		return shutdown()
	}
	app.warm.Store(true)
	log.Printf("warm: serving requests")

	// Register only once warm: a registered (enabled) instance takes registry
	// traffic at once. /health answers 200 only once the registration is done
	// (retries included), as a Spring Boot app turns ready after it registered:
	// whoever enables the instance after its health check passed (nonstop) acts on
	// the final registration, which no retry overwrites.
	if o.nacos != "" {
		reg, err = register(ctx, o)
		if err != nil {
			if ctx.Err() != nil {
				return shutdown()
			}
			srv.Close()
			return err
		}
		log.Printf("registered %s %s in %s (enabled=%t)", o.service, o.addr, o.nacos, o.registerEnabled)
	}
	app.ready.Store(true)
	log.Printf("ready")

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		if reg != nil {
			reg.deregister()
		}
		return err
	}
	return shutdown()
}

// sleep waits d, false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// app is the service's HTTP side.
type app struct {
	o        options
	warm     atomic.Bool // past the warm-up: every path but /health serves
	ready    atomic.Bool // registered too: /health serves
	inflight atomic.Int64
	gw       *gateway // gateway mode; nil otherwise
	ws       *wsHub   // the open websockets of /ws
}

func newApp(o options) *app {
	tick := o.wsTick
	if tick <= 0 {
		tick = 500 * time.Millisecond
	}
	return &app{o: o, ws: newWSHub(tick)}
}

// handler serves /health, /version, /work, /slow, /inflight and /ws. Every answer names
// the instance in X-Served-By; while warming up every path answers 503, and
// /health until the instance has registered.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if !a.ready.Load() {
			http.Error(w, "registering", http.StatusServiceUnavailable)
			return
		}
		if a.gw != nil && !a.gw.ups.ready() {
			http.Error(w, "no instance of "+a.gw.service+" to route to", http.StatusServiceUnavailable)
			return
		}
		if a.o.failHealth {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, a.o.version)
	})
	if a.gw != nil {
		mux.Handle("/", a.gw)
		mux.HandleFunc("/gateway/instances", a.gw.serveInstances)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Gateway", a.o.addr+" "+a.o.version)
			if !a.warm.Load() {
				w.Header().Set("X-Served-By", a.o.addr)
				http.Error(w, "warming up", http.StatusServiceUnavailable)
				return
			}
			mux.ServeHTTP(w, r)
		})
	}
	mux.HandleFunc("/work", func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		d := time.Duration(ms) * time.Millisecond
		if ms < 0 || d > maxHold {
			http.Error(w, "ms must be 0 to 600000", http.StatusBadRequest)
			return
		}
		a.hold(w, r, d)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		d := 2 * time.Second
		if s := r.URL.Query().Get("d"); s != "" {
			var err error
			if d, err = time.ParseDuration(s); err != nil || d < 0 || d > maxHold {
				http.Error(w, "d must be a duration from 0 to 10m", http.StatusBadRequest)
				return
			}
		}
		a.hold(w, r, d)
	})
	mux.HandleFunc("/ws", a.serveWS)
	mux.HandleFunc("/inflight", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, a.inflight.Load())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Served-By", a.o.addr)
		if !a.warm.Load() {
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// hold keeps the request d long (counted in /inflight), then answers "done <version>".
// A request in flight at SIGTERM is finished: shutdown waits for it.
func (a *app) hold(w http.ResponseWriter, r *http.Request, d time.Duration) {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client went away
			return
		}
	}
	fmt.Fprintf(w, "done %s\n", a.o.version)
}
