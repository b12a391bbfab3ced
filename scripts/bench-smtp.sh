#!/usr/bin/env bash
# SMTP ingest benchmark, Skjold and Postfix+Dovecot side by side in one run (issue: SMTP throughput).
#
#   scripts/bench-smtp.sh            # both servers, 5,000 4 KiB messages over 16 connections
#   N=2000 C=16 scripts/bench-smtp.sh
#
# Skjold runs from a release build on a throwaway data dir (loopback ports 12525 and up); the peer is the
# Postfix+Dovecot instance of ../shared/bench/setup-peer.sh (installed and started if needed, root only).
# Skjold answers 250 only after the message is fsync'd into the recipient's Inbox, so its send phase is
# also its end-to-end figure; right after the run the script checks over IMAP (STARTTLS: Skjold refuses
# plaintext LOGIN, which mailbench would need) that every message is visible. The peer's end-to-end
# figure waits until Dovecot's IMAP shows every message.
# Output: one JSON line per run in $OUT (default /tmp/bench-smtp.jsonl) and a summary on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$ROOT/../shared/bench}"
N="${N:-5000}"
C="${C:-16}"
OUT="${OUT:-/tmp/bench-smtp.jsonl}"
PASS="${PB_PASS:-Bench-Pass-2026-x9}"
PORT="${SKJOLD_BENCH_PORT:-12525}"
export PB_PASS="$PASS"

cd "$ROOT"
[[ -n "${SKIP_BUILD:-}" ]] || swift build -c release --product skjold --scratch-path .build-release >/dev/null
SKJOLD="$ROOT/.build-release/release/skjold"

DATA="$(mktemp -d /tmp/skjold-bench.XXXXXX)"
cat > "$DATA/skjold.toml" <<TOML
hostname = "localhost"
data_dir = "$DATA/data"
[listen]
smtp = "127.0.0.1:$PORT"
imap = "127.0.0.1:$((PORT + 1))"
TOML
"$SKJOLD" domain add bench.test --config "$DATA/skjold.toml" >/dev/null
for u in 1 2 3 4 5 6 7 8; do
    printf '%s\n' "$PASS" | "$SKJOLD" account add "user$u@bench.test" --password-stdin --config "$DATA/skjold.toml" >/dev/null
done
ROOT_FLAG=()
[[ "$(id -u)" -eq 0 ]] && ROOT_FLAG=(--allow-root)  # a throwaway benchmark server may stay root
"$SKJOLD" serve --config "$DATA/skjold.toml" "${ROOT_FLAG[@]}" > "$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do grep -q '^ready' "$DATA/serve.log" && break; sleep 0.1; done

: > "$OUT"
run() { python3 "$BENCH_DIR/mailbench.py" smtp-ingest --quiet "$@" | tee -a "$OUT"; }

echo "== skjold (release, port $PORT)"
run --label skjold --smtp-port "$PORT" --user user2@bench.test --password "$PASS" \
    -n "$N" -c "$C" --per-conn 25 --size 4096 --large 5 --no-verify --server-pids "$SERVER"
python3 - "$((PORT + 1))" "$PASS" "$N" <<'PY'
import imaplib, ssl, sys, time
port, password, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
start = time.time()
m = imaplib.IMAP4("127.0.0.1", port); m.starttls(ssl_context=ctx); m.login("user2@bench.test", password)
count = int(m.status("INBOX", "(MESSAGES)")[1][0].split()[-1].rstrip(b")"))
m.logout()
print(f"skjold IMAP check: {count} of {n} messages visible in INBOX ({time.time() - start:.2f} s after the last 250)")
PY

if [[ "${SKIP_PEER:-}" == "" ]]; then
    "$BENCH_DIR/setup-peer.sh" >/dev/null
    echo "== postfix+dovecot"
    run --label postfix-dovecot --smtp-port 22525 --imap-port 21143 --user user2@bench.test --password "$PASS" \
        -n "$N" -c "$C" --per-conn 25 --size 4096 --large 5 --purge --server-pids "$("$BENCH_DIR/setup-peer.sh" pids)"
fi

python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
res = {}
for r in rows:
    m = r.get("metrics", {})
    e2e = m.get("end_to_end_msgs_per_s") or m.get("msgs_per_s")
    res[r["label"]] = e2e
    print(f'{r["label"]:16} ok={r["ok"]} send={m.get("msgs_per_s")} msg/s  end-to-end={e2e} msg/s  '
          f'p50={m.get("lat_p50_ms")} ms p99={m.get("lat_p99_ms")} ms  server_cpu={m.get("server_cpu_s")} s')
if "skjold" in res and res.get("postfix-dovecot"):
    print(f'ratio skjold/postfix-dovecot end-to-end: {res["skjold"] / res["postfix-dovecot"]:.2f}x')
PY
