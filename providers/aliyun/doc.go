// Package aliyun is the balancer provider for Alibaba Cloud load balancers: kind
// aliyun_slb drives Classic Load Balancer (SLB/CLB) vServer groups and kind
// aliyun_alb drives Application Load Balancer server groups, both through their
// RPC-style OpenAPI.
//
//	provider "aliyun_slb" "web" {
//	  region            = "cn-shanghai"
//	  access_key_id     = var.ak          # or ALIBABA_CLOUD_ACCESS_KEY_ID
//	  access_key_secret = var.sk          # or ALIBABA_CLOUD_ACCESS_KEY_SECRET
//	  endpoint          = ""              # default https://slb.aliyuncs.com
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
// Requests are signed with signature version 1.0 (HMAC-SHA1) and sent as POST
// with every parameter in the query string, as the official SDKs do. The official
// Go SDKs (github.com/alibabacloud-go/slb-20140515/v4, alb-20200616/v2) were not
// available from the module proxy here, so the signing and calls are written with
// net/http after the documentation.
//
// # What was verified, and how
//
// No real Alibaba Cloud account or load balancer was reachable when this was
// written. Verified: the signer reproduces the documented signature examples
// (help.aliyun.com/document_detail/28839.html) and the official openapi-util test
// vector; the exact requests (method, path, every query parameter, signature,
// headers) are pinned by golden files; the answers parsed are the documented
// response shapes of the four actions and the documented error body, replayed by an
// httptest server (fixtures and their sources under testdata/). Not verified:
// behaviour of the real service, such as whether SetVServerGroupAttribute needs
// Type and Description re-sent (they are), how fast ALB jobs apply, throttling, and
// regional endpoint quirks. Nor, for health: ListServerGroups' ShowRelationEnabled
// parameter and RelatedListenerIds field come from the official Go SDK's API model
// (github.com/aliyun/alibaba-cloud-sdk-go, services/alb) and are not on the
// current API reference page; the NonNormalServers Status values (Initial,
// Unhealthy, Unused, Unavailable) are those the SDKs document for ALB, copied from
// NLB's; whether listeners of several ALB instances sharing a group report
// different verdicts (nonstop reads one listener); and whether DescribeHealthStatus
// names ENI and ECI backends by ServerIp.
package aliyun
