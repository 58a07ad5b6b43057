// Package aliyun is the balancer provider for Alibaba Cloud load balancers: kind
// aliyun_slb drives Classic Load Balancer (SLB/CLB) vServer groups and kind
// aliyun_alb drives Application Load Balancer server groups, both through their
// RPC-style OpenAPI.
//
//	provider "aliyun_slb" "web" {
//	  region            = "cn-shanghai"
//	  access_key_id     = var.ak          # or none: the default credential chain
//	  access_key_secret = var.sk
//	  security_token    = var.sts         # with a temporary (STS) AccessKey
//	  endpoint          = ""              # default https://slb.aliyuncs.com
//	  timeout           = "30s"           # each try of each API call
//	}
//	provider "aliyun_alb" "api" {
//	  region = "cn-shanghai"              # endpoint default https://alb.cn-shanghai.aliyuncs.com
//	}
//
// A pool is a vServer group ID (rsp-…) for SLB and a server group ID (sgp-…) for
// ALB. Members are matched by address, ServerIp:Port, whatever their instance IDs.
//
//   - SLB: Pool is one DescribeVServerGroupAttribute call and one
//     DescribeHealthStatus call; a weight (0 to 100) is set with
//     SetVServerGroupAttribute, which answers synchronously with the new weights
//     (checked).
//   - ALB: Pool is one ListServerGroupServers call per 100 servers and one
//     GetListenerHealthStatus call (the first time, ListServerGroups too); a
//     weight (0 to 100) is set with UpdateServerGroupServersAttribute, which is
//     asynchronous, so the write then polls ListServerGroupServers until the server
//     is Available with the new weight (2 minutes at most, or the caller's
//     deadline).
//
// Neither SLB nor ALB has an administrative state. Drain and maint both set weight
// 0 (no new requests; established connections finish), and weight 0 reads back as
// drain. Ready leaves a non-zero weight as it is; on weight 0 it is an error
// asking for a weight, because the API keeps no previous weight to restore. Down
// cannot be forced (only health checks mark servers unhealthy) and is refused.
// Member.Sessions is always nil: neither API reports per-server connections.
//
// Member.Health is the load balancer's own health check verdict, read with one
// extra call per Pool and never one per member. SLB: DescribeHealthStatus for the
// LoadBalancerId that DescribeVServerGroupAttribute names, every listener port at
// once; a backend server is matched by ServerIp (EniHost, or ServerId where an
// entry names no IP) and Port, and ServerHealthStatus normal is up, abnormal down,
// unavailable (health check off) unknown; where several listeners check the same
// server the worst verdict wins, and a server no listener reports is unknown. ALB:
// health is reported per listener, so Pool finds a listener that forwards to the
// server group with ListServerGroups (ShowRelationEnabled, RelatedListenerIds; the
// first in sorted order, remembered per group and looked up again when it stops
// reporting the group), then reads GetListenerHealthStatus with IncludeRule for
// that listener, whose ServerGroupInfos for the group list only the servers that
// are not normal: a server not listed is up; Unavailable, or HealthCheckEnabled
// off for the group, is unknown; Initial (not checked yet), Unhealthy, Unused
// (weight 0, not checked) and any other status are down, with the ReasonCode in
// HealthDetail. A group no listener forwards to has unknown health. For these
// balancers "serving" therefore means: weight above 0 and the health check of a
// listener that forwards to the group passing since the server came back; where
// the health check is off, the load balancer confirms nothing and a member with a
// weight counts as serving at once.
//
// # The SDK, credentials, retries and bounds
//
// Calls go through the official v1 Go SDK, github.com/aliyun/alibaba-cloud-sdk-go:
// the request types of services/slb and services/alb name the parameters, the
// SDK signs them (signature version 1.0, HMAC-SHA1) and sends every parameter in
// the query string of a POST to "/". The SDK's client keeps per-request settings
// (timeouts) in shared fields, so each try of a call gets a client of its own,
// sharing the provider's HTTP transport; a transport wrapper gives the SDK's
// requests the caller's context, which the SDK has no parameter for.
//
// Credentials: access_key_id and access_key_secret in the block (with
// security_token for a temporary STS AccessKey); half a key in the block takes
// the other half from ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// as before. With no key in the block, the default credential chain of
// github.com/aliyun/credentials-go is asked when the provider first calls the
// API — never by nonstop validate nor when the provider is configured — and kept:
// the environment (ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET,
// ALIBABA_CLOUD_SECURITY_TOKEN), OIDC in CI (ALIBABA_CLOUD_ROLE_ARN,
// ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE), the aliyun CLI's
// ~/.aliyun/config.json, ~/.alibabacloud/credentials, the ECS instance's RAM role
// (ALIBABA_CLOUD_ECS_METADATA names the role; ALIBABA_CLOUD_ECS_METADATA_DISABLED
// skips it) and ALIBABA_CLOUD_CREDENTIALS_URI. Temporary credentials it fetched
// are reused until they near their expiry. A chain that found nothing is asked
// again at the next call. Its lookups are bounded by credentials-go's own
// timeouts (1 s each for the ECS metadata service, 5 s to connect and 10 s to
// read for STS and a credentials URI), not by the provider's timeout.
//
// Every try is bounded by the timeout attribute (30 s by default): connecting,
// the TLS handshake and reading the whole answer (at most 8 MiB). Each call is
// tried up to 3 times, pausing 0.5 s then 1 s, after a refused or dropped
// connection or an answer that says the API is busy: Code Throttling or
// Throttling.* (Throttling.User, Throttling.Api), ServiceUnavailable, or HTTP 429
// or 503 without a code. Every action called is safe to repeat (reads; weights are set
// whole; UpdateServerGroupServersAttribute carries the same ClientToken on each
// try). A timeout is not repeated, and neither is a gateway's 502 page. The SDK's
// AutoRetry is off: it repeats at once, without a pause, after any transport
// error (timeouts included) or 5xx, and never after throttling (HTTP 400).
// Errors name the action and the endpoint; a call still busy after its last try
// says "gave up after 3 tries in 1.5s (the retry bound)" with the last answer.
//
// Secrets: errors never quote the signed request (the HTTP client's URL error is
// reduced to its cause), and the AccessKey ID, secret and security token of the
// request, in their plain and percent-encoded forms, are replaced by
// "(redacted)" in the API's error messages (SignatureDoesNotMatch quotes the
// string the service signed). The SDK logs nothing unless its own DEBUG=sdk
// environment switch is set, which prints requests, query strings included.
//
// # What was verified, and how
//
// No real Alibaba Cloud account or load balancer was reachable when this was
// written. Verified: the replay server (an httptest server pointed at through
// the endpoint attribute, so the SDK's own code path runs) checks every
// request's signature with an independent signer that reproduces the documented
// signature examples (help.aliyun.com/document_detail/28839.html) and the
// official openapi-util test vector, and its AccessKey ID, security token, nonce
// and timestamp; the exact requests (method, path, every query parameter,
// headers) are pinned by golden files — the same actions and parameters as the
// hand-signed requests before the SDK, plus the SDK's RegionId on ALB calls and
// its empty SignatureType; the answers parsed are the documented response shapes
// and the documented error body (fixtures and their sources under testdata/);
// the credential sources that can be served locally (block, environment,
// credentials file, credentials URI) sign the requests. Not verified: behaviour
// of the real service, such as whether SetVServerGroupAttribute needs Type and
// Description re-sent (they are), how fast ALB jobs apply, real throttling
// answers beyond the documented codes, and regional endpoint quirks; nor the ECS
// RAM role and OIDC sources against a server (credentials-go fixes the metadata
// host, 100.100.100.200, and sends OIDC to an https STS host named by region). Nor, for health: ListServerGroups' ShowRelationEnabled
// parameter and RelatedListenerIds field come from the official Go SDK's API model
// (github.com/aliyun/alibaba-cloud-sdk-go, services/alb) and are not on the
// current API reference page; the NonNormalServers Status values (Initial,
// Unhealthy, Unused, Unavailable) are those the SDKs document for ALB, copied from
// NLB's; whether listeners of several ALB instances sharing a group report
// different verdicts (nonstop reads one listener); and whether DescribeHealthStatus
// names ENI and ECI backends by ServerIp.
package aliyun
