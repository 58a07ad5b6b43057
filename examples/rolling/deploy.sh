#!/bin/sh
# deploy.sh HOST PORT VERSION: moves the instance at HOST:PORT to VERSION.
#
# nonstop runs this only while the instance is out of traffic (drained from every
# balancer and disabled in the registry). Replace it with your own mechanism
# (ansible, ssh + systemctl, a package install); here it hands over to the program
# named by NONSTOP_DEPLOY_HOOK, which the demo sets to restart a demo instance.
#
# Like `systemctl restart`, it may return as soon as the new process is started:
# nonstop's health block waits for it to answer, and the balancers' own checks
# confirm it before it takes traffic. The environment nonstop passes (for a service
# in a registry, NONSTOP_REGISTER_ENABLED=false) must reach the new process, so that
# it registers disabled until nonstop enables it.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 HOST PORT VERSION" >&2
	exit 2
fi
: "${NONSTOP_DEPLOY_HOOK:?set NONSTOP_DEPLOY_HOOK to the program that restarts HOST:PORT at VERSION}"
exec "$NONSTOP_DEPLOY_HOOK" "${SERVICE:-}" "$1" "$2" "$3"
