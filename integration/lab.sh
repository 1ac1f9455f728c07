#!/usr/bin/env bash
# Runs the seed lab (Lab 12.2, "Reverse Proxy & DNS") on one binary: the lab's
# Flask API on 127.0.0.1:8080 and frontdesk with caddyfile/lab.Caddyfile in
# front of it. Ctrl-C stops both.
#
# Environment: FRONTDESK_HTTP_PORT (default 8000; 80 needs root),
# FRONTDESK_DNS_PORT (default 1053; 53 needs root),
# APP_PORT (default 8080), FRONTDESK_LOG_DIR (default ./log).
set -euo pipefail
cd "$(dirname "$0")/.."

integration/peers.sh python3-flask bind9-dnsutils # the API, and dig for the lab's DNS checks
mkdir -p bin "${FRONTDESK_LOG_DIR:=./log}"
export FRONTDESK_LOG_DIR
echo "lab.sh: building bin/frontdesk (the first build downloads Caddy's modules and takes a few minutes) ..." >&2
go build -o bin/frontdesk ./cmd/frontdesk

APP_PORT="${APP_PORT:-8080}"
export LAB_API="127.0.0.1:${APP_PORT}"
APP_PORT="$APP_PORT" /usr/bin/python3 integration/testdata/app.py >"$FRONTDESK_LOG_DIR/app.log" 2>&1 &
app_pid=$!
trap 'kill "$app_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
	if curl -fsS "http://$LAB_API/healthz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$app_pid" 2>/dev/null; then
		echo "lab.sh: the Flask API did not start:" >&2
		cat "$FRONTDESK_LOG_DIR/app.log" >&2
		exit 1
	fi
	sleep 0.1
done

port="${FRONTDESK_HTTP_PORT:-8000}"
cat >&2 <<MSG

  Flask API   http://$LAB_API/          (pid $app_pid, log $FRONTDESK_LOG_DIR/app.log)
  Frontdesk   http://myapp.local:$port/  (logs $FRONTDESK_LOG_DIR/myapi.{access,error}.log)
  DNS         127.0.0.1 port ${FRONTDESK_DNS_PORT:-1053}: myapp.local -> 127.0.0.1

  Try:  dig myapp.local @127.0.0.1 -p ${FRONTDESK_DNS_PORT:-1053} +short
        curl -s -H "Host: myapp.local" http://127.0.0.1:$port/api/headers
        curl -s "http://127.0.0.1:$port/api/hello?name=DevOps" -H "Host: myapp.local"

MSG
bin/frontdesk run --config caddyfile/lab.Caddyfile --adapter caddyfile
