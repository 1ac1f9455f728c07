#!/usr/bin/env bash
# Runs one scenario of caddyfile/ as shipped, with the demo backends, files and
# certificates it needs, on ports of its own (none collides with the lab's
# 8000/8080/1053 or another scenario's). Ctrl-C stops everything it started.
#
#   integration/scenario.sh <name>        (or: make run-<name>)
#
# Names: static-api upstream-flask tls paths timeouts loadbalance hostrouting
# cache (the lab itself is `make lab`). Environment: FRONTDESK_HTTP_PORT,
# FRONTDESK_HTTPS_PORT (tls), STATS_PORT (hostrouting), FRONTDESK_ADMIN,
# SCENARIO_PORT_BASE (backends listen on base+1, base+2, ...),
# FRONTDESK_LOG_DIR (./log), SCENARIO_DIR (./run/<name>: generated files),
# FRONTDESK_BIN and DEMO_BIN (prebuilt binaries; built into bin/ otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: integration/scenario.sh static-api|upstream-flask|tls|paths|timeouts|loadbalance|hostrouting|cache" >&2
	exit 2
}
[ $# -eq 1 ] || usage
name=$1

# Each scenario's defaults: the Caddyfile's own {$VAR:default}s say the same.
#            http  admin base
case "$name" in
static-api)     set -- 8001 2021 9010 ;;
upstream-flask) set -- 8002 2022 9020 ;;
tls)            set -- 8003 2023 9030 ;;
paths)          set -- 8004 2024 9040 ;;
timeouts)       set -- 8005 2025 9050 ;;
loadbalance)    set -- 8006 2026 9060 ;;
hostrouting)    set -- 8007 2027 9070 ;;
cache)          set -- 8008 2028 9080 ;;
*) usage ;;
esac
export FRONTDESK_HTTP_PORT="${FRONTDESK_HTTP_PORT:-$1}"
export FRONTDESK_ADMIN="${FRONTDESK_ADMIN:-localhost:$2}"
base="${SCENARIO_PORT_BASE:-$3}"
port() { echo "127.0.0.1:$((base + $1))"; }

export FRONTDESK_LOG_DIR="${FRONTDESK_LOG_DIR:-./log}"
dir="${SCENARIO_DIR:-./run/$name}"
mkdir -p "$FRONTDESK_LOG_DIR" "$dir" bin

build() { # build <output> <package>
	echo "scenario: building $1 (the first build downloads Caddy's modules and takes a few minutes) ..." >&2
	go build -o "$1" "$2"
}
frontdesk="${FRONTDESK_BIN:-bin/frontdesk}"
demo="${DEMO_BIN:-bin/demo}"
[ -n "${FRONTDESK_BIN:-}" ] || build bin/frontdesk ./cmd/frontdesk
[ -n "${DEMO_BIN:-}" ] || build bin/demo ./integration/demo

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# demo name=addr ...: the Go demo backends (integration/demo).
demo() {
	"$demo" "$@" >>"$FRONTDESK_LOG_DIR/$name.backends.log" 2>&1 &
	pids+=($!)
	for arg in "$@"; do wait_up "${arg#*=}"; done
}
# flask addr: the lab's Flask API (seed 002 proxies to a Flask backend).
flask() {
	integration/peers.sh python3-flask
	APP_PORT="${1##*:}" /usr/bin/python3 integration/testdata/app.py >>"$FRONTDESK_LOG_DIR/$name.backends.log" 2>&1 &
	pids+=($!)
	wait_up "$1"
}
wait_up() {
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "http://$1/healthz" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "scenario: the backend on $1 did not start; see $FRONTDESK_LOG_DIR/$name.backends.log" >&2
	exit 1
}

http="127.0.0.1:$FRONTDESK_HTTP_PORT"
case "$name" in
static-api)
	export API_UPSTREAM="$(port 1)" STATIC_ROOT="${STATIC_ROOT:-caddyfile/demo/html}"
	demo api="$API_UPSTREAM"
	try="curl -s http://$http/            # the single-page app (index.html)
        curl -s http://$http/some/route  # any other path: index.html too
        curl -s http://$http/api/users   # the API sees /users"
	;;
upstream-flask)
	export BACKEND_FLASK="$(port 1)"
	flask "$BACKEND_FLASK"
	try="curl -s http://$http/api/hello?name=DevOps
        curl -s -H 'Accept-Encoding: gzip' http://$http/ | gunzip"
	;;
tls)
	export FRONTDESK_HTTPS_PORT="${FRONTDESK_HTTPS_PORT:-8443}"
	export API_UPSTREAM="$(port 1)" TASKS_UPSTREAM="$(port 2)"
	export TASKS_CERT="$dir/tasks.apiclub.com.pem" TASKS_KEY="$dir/tasks.apiclub.com-key.pem"
	# Caddy's data directory (its internal CA, mkcert's part) stays in $dir.
	export XDG_DATA_HOME="$dir/data"
	if [ ! -s "$TASKS_CERT" ]; then
		integration/peers.sh openssl
		echo "scenario: making a self-signed certificate for tasks.apiclub.com in $dir" >&2
		openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=tasks.apiclub.com" \
			-addext "subjectAltName=DNS:tasks.apiclub.com" \
			-keyout "$TASKS_KEY" -out "$TASKS_CERT" 2>/dev/null
	fi
	demo api="$API_UPSTREAM" tasks="$TASKS_UPSTREAM"
	https=$FRONTDESK_HTTPS_PORT
	try="curl -s --resolve apiclub.com:$https:127.0.0.1 --cacert $XDG_DATA_HOME/caddy/pki/authorities/local/root.crt https://apiclub.com:$https/
        curl -s --resolve tasks.apiclub.com:$https:127.0.0.1 --cacert $TASKS_CERT https://tasks.apiclub.com:$https/
        curl -si http://$http/ | head -3     # 301 to https"
	;;
paths)
	export USER_SERVICE="$(port 1)" TASK_SERVICE="$(port 2)" WEBSOCKET_BACKEND="$(port 3)"
	export FRONTEND_ROOT="${FRONTEND_ROOT:-caddyfile/demo/html}"
	demo users="$USER_SERVICE" tasks="$TASK_SERVICE" websocket="$WEBSOCKET_BACKEND"
	try="curl -s -H 'Host: api.example.com' http://$http/api/users/42   # users sees /42
        curl -s -H 'Host: api.example.com' http://$http/api/tasks/7    # tasks sees /7
        curl -s -H 'Host: api.example.com' http://$http/               # the frontend"
	;;
timeouts)
	export API_UPSTREAM="$(port 1)"
	demo api="$API_UPSTREAM"
	try="curl -si -H 'Host: api.example.com' http://$http/            # no Server / X-Powered-By
        curl -si -H 'Host: api.example.com' 'http://$http/slow?d=65s' # 504 after the 60 s read timeout"
	;;
loadbalance)
	export APP1="$(port 1)" APP2="$(port 2)" APP3="$(port 3)" APP4="$(port 4)" APP_BACKUP="$(port 5)" APP5="$(port 6)"
	demo app1="$APP1" app2="$APP2" app3="$APP3" app4="$APP4" app-backup="$APP_BACKUP" app5="$APP5"
	try="for i in 1 2 3 4 5 6; do curl -s http://$http/ | grep '\"backend\"'; done
        curl -s http://$http/frontdesk-health
        curl -s http://$http/frontdesk-status       # the status page (a browser shows it best)"
	;;
hostrouting)
	export STATS_PORT="${STATS_PORT:-8404}"
	export API1="$(port 1)" API2="$(port 2)" API3="$(port 3)" WEB1="$(port 4)" WEB2="$(port 5)"
	demo api1="$API1" api2="$API2" api3="$API3" web1="$WEB1" web2="$WEB2"
	try="curl -s -H 'Host: api.example.com' http://$http/ | grep '\"backend\"'   # api1 or api2
        curl -s -H 'Host: example.com' http://$http/ | grep '\"backend\"'       # web1 or web2
        curl -s -u admin:changeme http://127.0.0.1:$STATS_PORT/haproxy     # the stats page"
	;;
cache)
	export BACKEND_POOL="$(port 1)"
	demo origin="$BACKEND_POOL"
	try="curl -si -H 'Host: api.example.com' http://$http/api/x | grep -i 'x-cache-status\|served'   # MISS
        curl -si -H 'Host: api.example.com' http://$http/api/x | grep -i 'x-cache-status\|served'   # HIT, same count"
	;;
esac

cat >&2 <<MSG

  Scenario  $name: caddyfile/$name.Caddyfile on http://$http/ (admin $FRONTDESK_ADMIN)
  Backends  $FRONTDESK_LOG_DIR/$name.backends.log

  Try:  $try

MSG
"$frontdesk" run --config "caddyfile/$name.Caddyfile" --adapter caddyfile &
pids+=($!)
wait "${pids[-1]}"
