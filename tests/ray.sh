#!/usr/bin/env bash
# Runs taskloop's Ray tests against a real Ray cluster, started the way a user starts it:
# `pip install "ray[default]"` into a venv (cached under the cargo target dir) and
# `ray start --head` with the dashboard on 127.0.0.1.
#
#   bash tests/ray.sh          # the tests (tests/ray_*.rs) and the ray_abc example
#   bash tests/ray.sh bench    # the benchmark (benches/src/bin/ray.rs), not run by CI
#
# Ray's processes otherwise bind the machine's network address, so Ray and the test
# binaries run inside fresh namespaces: a network namespace whose only interface is
# loopback (`unshare --net`, then `ip link set lo up`), and a PID namespace
# (`--pid --fork --mount-proc`) so that `ray stop` sees only this run's Ray, and every
# process left over is killed when the run ends. Everything is built before entering the
# namespace, since cargo cannot reach the registry from inside. Needs root (or
# unprivileged user namespaces), python3 with venv, unshare and ip.
#
# Two clusters run one after the other: one without authentication (RAY_AUTH_MODE=disabled)
# for every test, then one with RAY_AUTH_MODE=token for the token tests. `ray stop` always
# runs at the end, even on failure.
#
# Environment: CARGO_TARGET_DIR (default target), TASKLOOP_RAY_PIP_SPEC (what pip installs;
# default the Ray version these tests were written against).
set -euo pipefail
cd "$(dirname "$0")/.."

RAY_PIP_SPEC=${TASKLOOP_RAY_PIP_SPEC:-"ray[default]==2.60.0"}
TARGET=$(realpath -m "${CARGO_TARGET_DIR:-target}")
VENV=$TARGET/ray-venv
DASHBOARD=http://127.0.0.1:8265
TESTS=(ray_connect ray_job_outcomes ray_stop ray_submit_retry)

say() { echo "[ray.sh $(date +%T)] $*"; }
die() { echo "[ray.sh] error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------
# Outside the namespaces: check the tools, make the venv, build everything.
# ---------------------------------------------------------------------------------------
outside() {
  local mode=$1
  for tool in unshare ip python3 cargo timeout; do
    command -v "$tool" >/dev/null || die "'$tool' is missing: the Ray tests need it (unshare and ip are in util-linux and iproute2)"
  done
  local ns=(unshare --net --pid --fork --kill-child --mount-proc)
  if [ "$(id -u)" != 0 ]; then ns=(unshare --map-root-user --net --pid --fork --kill-child --mount-proc); fi
  "${ns[@]}" true 2>/dev/null || die "cannot create namespaces with '${ns[*]}' (run as root, or enable unprivileged user namespaces)"

  make_venv

  local bins=() line
  if [ "$mode" = bench ]; then
    say "building the benchmark"
    (cd benches && cargo build --release --bin ray)
    bins=("$(realpath -m "${CARGO_TARGET_DIR:-benches/target}")/release/ray")
  else
    say "building the Ray tests and the example"
    local args=()
    for t in "${TESTS[@]}"; do args+=(--test "$t"); done
    while read -r line; do bins+=("$line"); done < <(
      cargo test --release --no-run --message-format=json "${args[@]}" \
        | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["target"]["name"] + "=" + m["executable"])')
    cargo build --release --example ray_abc
    bins+=("ray_abc=$TARGET/release/examples/ray_abc")
  fi
  say "entering the namespaces (only loopback; budget 15 minutes)"
  exec timeout --kill-after=10 900 "${ns[@]}" bash "$0" __inside "$mode" "${bins[@]}"
}

make_venv() {
  if [ -f "$VENV/.taskloop-ok" ] && [ "$(cat "$VENV/.taskloop-ok")" = "$RAY_PIP_SPEC" ]; then
    say "venv cached: $VENV ($RAY_PIP_SPEC)"
    return
  fi
  say "installing $RAY_PIP_SPEC into $VENV (about a minute, once)"
  rm -rf "$VENV"
  python3 -m venv "$VENV" || die "python3 cannot make a venv (install python3-venv)"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$RAY_PIP_SPEC"
  echo "$RAY_PIP_SPEC" > "$VENV/.taskloop-ok"
}

# ---------------------------------------------------------------------------------------
# Inside the namespaces: loopback up, Ray, the tests, `ray stop`.
# ---------------------------------------------------------------------------------------
inside() {
  local mode=$1; shift
  ip link set lo up
  WORK=$(mktemp -d /tmp/tl-ray.XXXXXX)
  export HOME=$WORK/home PATH=$VENV/bin:$PATH RAY_USAGE_STATS_ENABLED=0
  mkdir -p "$HOME"
  trap cleanup EXIT
  if [ "$mode" = bench ]; then
    start_ray disabled 4
    say "benchmark"
    TASKLOOP_RAY_URL=$DASHBOARD RUST_BACKTRACE=1 "${1#*=}"
    return
  fi

  local status=0
  start_ray disabled 4
  for bin in "$@"; do
    local name=${bin%%=*} path=${bin#*=}
    if [ "$name" = ray_abc ]; then
      say "example: ray_abc"
      timeout 180 "$path" "$DASHBOARD" || { echo "FAIL: examples/ray_abc"; status=1; }
    else
      say "test: $name"
      TASKLOOP_RAY_URL=$DASHBOARD timeout 300 "$path" --skip token || { echo "FAIL: $name"; status=1; }
    fi
  done
  stop_ray

  local token
  token=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  RAY_AUTH_TOKEN=$token start_ray token 2
  for bin in "$@"; do
    if [ "${bin%%=*}" = ray_connect ]; then
      say "test: ray_connect token (RAY_AUTH_MODE=token)"
      TASKLOOP_RAY_URL=$DASHBOARD TASKLOOP_RAY_TOKEN=$token timeout 300 "${bin#*=}" token \
        || { echo "FAIL: ray_connect token"; status=1; }
    fi
  done
  stop_ray
  [ "$status" = 0 ] && say "Ray tests passed"
  return "$status"
}

# start_ray AUTH_MODE CPUS: a head node on 127.0.0.1, then wait for the dashboard.
start_ray() {
  say "ray start --head (RAY_AUTH_MODE=$1, $2 CPUs)"
  RAY_AUTH_MODE=$1 timeout 120 ray start --head --node-ip-address=127.0.0.1 --port=6379 \
    --dashboard-host=127.0.0.1 --dashboard-port=8265 --num-cpus="$2" \
    --temp-dir="$WORK/ray" --disable-usage-stats >"$WORK/ray-start.log" 2>&1 \
    || { tail -30 "$WORK/ray-start.log"; die "ray start failed"; }
  local i
  for i in $(seq 1 120); do
    if python3 - "$DASHBOARD" <<'EOF' 2>/dev/null; then say "dashboard up"; return; fi
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1] + "/api/version", timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code in (401, 403) else 1)  # up, and wants a token
EOF
    sleep 0.5
  done
  die "the dashboard did not answer within 60 s"
}

stop_ray() {
  say "ray stop"
  timeout 60 ray stop --force >/dev/null 2>&1 || true
}

cleanup() {
  local code=$?
  stop_ray
  # We are PID 1 of our own PID namespace: whatever is still running is ours.
  kill -9 -1 2>/dev/null || true
  rm -rf "$WORK"
  exit "$code"
}

if [ "${1:-}" = __inside ]; then
  shift
  inside "$@"
else
  outside "${1:-test}"
fi
