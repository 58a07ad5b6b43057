// Command demo-service is a small HTTP service that stands in for a real application
// in nonstop's tests and demo: it serves /health, /version and /work, registers itself
// in a Nacos registry (through nacos-sdk-go over gRPC, ephemeral, as Spring Cloud apps
// do) once its listener is ready, and shuts down gracefully on SIGTERM or SIGINT.
//
// Usage:
//
//	demo-service -addr 127.0.0.1:18081 -version 1.4.2 -service order-service \
//	    -group DEFAULT_GROUP -nacos 127.0.0.1:8848 -namespace public
//
// Endpoints:
//
//	GET /health      200 "ok", or 503 with -fail-health
//	GET /version     the -version flag, as plain text
//	GET /work?ms=N   sleeps N milliseconds, then answers "done <version>"
//
// The instance is registered with metadata "version" set to -version. On SIGTERM it
// deregisters, stops accepting connections, waits up to -drain-timeout for in-flight
// requests to finish, and exits 0. With -nacos "" it serves without registering.
package main
