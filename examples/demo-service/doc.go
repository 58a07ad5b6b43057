// Command demo-service is a small HTTP service that stands in for a real application
// in nonstop's tests and demo. It starts like one: the port opens only after a
// start-up delay, every request answers 503 during a warm-up, and only then does the
// instance register in a Nacos registry (through nacos-sdk-go over gRPC, ephemeral,
// as Spring Cloud apps do). It shuts down gracefully on SIGTERM or SIGINT.
//
// Usage:
//
//	demo-service -addr 127.0.0.1:18081 -version 1.4.2 -service order-service \
//	    -group DEFAULT_GROUP -nacos 127.0.0.1:8848 -namespace public \
//	    -start-delay 3s -warmup 1s
//
// Endpoints (every answer carries X-Served-By: <-addr>; during warm-up every path
// answers 503 "warming up"):
//
//	GET /health      200 "ok" once registered; 503 before, and always with -fail-health
//	GET /version     the -version flag, as plain text
//	GET /work?ms=N   holds the request N milliseconds, then answers "done <version>"
//	GET /slow?d=2s   the same with a Go duration (default 2s)
//	GET /inflight    how many /work and /slow requests are being held
//	GET /ws          a websocket: a JSON hello {"type":"hello","addr":A,"version":V}
//	                 when it opens, a tick {"type":"tick","n":N,...} every -ws-tick
//	                 (500ms), and {"type":"echo","text":T,...} for every text
//	                 message received; 426 without an Upgrade: websocket header
//
// Start-up, in order: wait -start-delay; open the port (log "listening"); answer
// 503 for -warmup; serve every path but /health (log "warm"); register, retrying
// refusals (log "registered ... (enabled=B)"); answer /health (log "ready"). So a
// health check passes only once the registration is final, as with a Spring Boot
// app, which turns ready after it registered. A SIGTERM at any point stops it
// cleanly.
//
// Environment defaults, so that a deploy script or nonstop's deploy step can set
// them:
//
//	NONSTOP_DEMO_START_DELAY   -start-delay ("3s", or seconds: "3", "1.5")
//	NONSTOP_DEMO_WARMUP        -warmup, in the same forms
//	NONSTOP_REGISTER_ENABLED   -register-enabled: "false" registers the instance
//	                           disabled (RegisterInstanceParam.Enable=false; Polaris
//	                           stores it isolated): consumers do not see it until it
//	                           is enabled through the registry's API
//	SPRING_CLOUD_NACOS_DISCOVERY_INSTANCE_ENABLED
//	                           the Spring Cloud Alibaba form of the same; the
//	                           NONSTOP_ one wins when both are set
//
// Gateway mode (-gateway-to SERVICE, or $NONSTOP_DEMO_GATEWAY_TO; -gateway-group,
// or $NONSTOP_DEMO_GATEWAY_GROUP, default DEFAULT_GROUP) makes the instance an HTTP
// gateway node of a two-tier fleet, like a Spring Cloud Gateway: it subscribes to
// SERVICE through its own nacos-sdk-go naming client and re-selects the healthy,
// enabled instances every second; each request but /health, /version and
// /gateway/instances (the JSON list it routes to now) goes to the next instance of
// that list on a new connection, never retried on another (a failure reaches the
// client). Every answer carries X-Gateway: <-addr> <-version>; /health answers 200
// only once the gateway is registered and knows at least one instance. It starts,
// warms up, registers and drains like the application.
//
// The instance is registered with metadata "version" set to -version. On SIGTERM it
// deregisters, stops accepting connections, waits up to -drain-timeout for in-flight
// requests to finish, then closes the websockets still open with a close frame 1001
// (going away) — as a Spring Boot application closes its websocket sessions after
// the web server's graceful shutdown phase — and exits 0. Until then its websockets
// keep their ticks: a client is cut only when the process really goes away, and a
// load balancer that drained the instance earlier may have closed them already
// (HAProxy's `shutdown sessions server`). With -nacos "" it serves without
// registering.
package main
