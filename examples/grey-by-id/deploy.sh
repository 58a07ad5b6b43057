#!/bin/sh
# deploy.sh HOST PORT VERSION: moves the instance at HOST:PORT to VERSION.
#
# nonstop runs this only while the instance is out of traffic (drained from every
# balancer and disabled in the registry). Replace the last line with your own
# mechanism (ssh + systemctl restart, ansible, a package install).
#
# Like `systemctl restart`, it may return as soon as the new process is started:
# nonstop's health block waits for it to answer, and the balancers' own checks
# confirm it before it takes traffic. The environment nonstop passes (for a service
# in a registry, NONSTOP_REGISTER_ENABLED=false) must reach the new process, so that
# it registers disabled until nonstop enables it.
#
# As written it hands over to the program named by NONSTOP_DEPLOY_HOOK, called
# with the same three arguments. The end-to-end test (internal/e2e, TestGreyByID)
# sets it, through the deploy_env variable, to examples/demo/deploy.sh, which
# restarts a demo-service instance of its fleet.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 HOST PORT VERSION" >&2
	exit 2
fi
if [ -z "${NONSTOP_DEPLOY_HOOK:-}" ]; then
	echo "deploy.sh: NONSTOP_DEPLOY_HOOK is not set. This example's deploy.sh only hands over:" >&2
	echo "run the example on a test fleet (go test ./internal/e2e -run GreyByID), or replace the" >&2
	echo "script's last line with your own deploy." >&2
	exit 2
fi
exec "$NONSTOP_DEPLOY_HOOK" "$1" "$2" "$3"
