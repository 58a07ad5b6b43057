#!/bin/sh
# deploy.sh HOST PORT VERSION: moves the instance at HOST:PORT to VERSION.
#
# nonstop runs this only while the instance is out of traffic (drained from every
# balancer and disabled in the registry). Replace it with your own mechanism
# (ansible, ssh + systemctl, a package install); here it hands over to the program
# named by NONSTOP_DEPLOY_HOOK, which the demo sets to restart a demo instance.
set -eu
if [ $# -ne 3 ]; then
	echo "usage: $0 HOST PORT VERSION" >&2
	exit 2
fi
: "${NONSTOP_DEPLOY_HOOK:?set NONSTOP_DEPLOY_HOOK to the program that restarts HOST:PORT at VERSION}"
exec "$NONSTOP_DEPLOY_HOOK" "${SERVICE:-}" "$1" "$2" "$3"
