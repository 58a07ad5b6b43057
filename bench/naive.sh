#!/usr/bin/env bash
# naive.sh: the release most teams start with — stop, replace, start, one instance
# at a time, with no draining and no registry step. For each address it runs the
# fleet's deploy script (which stops the old process gracefully and starts the new
# version) and waits until the new process answers its health check before it
# moves on, so that no more than one instance is down at a time.
#
# Environment (set by `make bench`):
#   ADDRS          the instances, "host:port host:port ..."
#   VERSION        the version to deploy
#   DEPLOY         examples/demo/deploy.sh
#   NONSTOP_DEMO_DIR, NONSTOP_DEMO_BIN, NONSTOP_DEMO_NACOS  what deploy.sh needs
set -euo pipefail
: "${ADDRS:?}" "${VERSION:?}" "${DEPLOY:?}"
for addr in $ADDRS; do
	host=${addr%:*} port=${addr##*:}
	echo "$(date +%T.%3N) restart $addr at $VERSION"
	bash "$DEPLOY" "$host" "$port" "$VERSION"
	until curl -fsS -o /dev/null --max-time 1 "http://$addr/health"; do
		sleep 0.2
	done
	echo "$(date +%T.%3N) $addr answers its health check"
done
