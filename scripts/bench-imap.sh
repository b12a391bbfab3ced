#!/usr/bin/env bash
# IMAP benchmark (issue 4), Skjold and Dovecot side by side in one run, on the same machine:
#   - imap-fetch on an N-message mailbox: SELECT, UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE),
#     BODY.PEEK[] on SAMPLE random messages (one by one, then in one command), UID SEARCH BODY/TEXT for a
#     rare and a common word, UID STORE 1:* +FLAGS.SILENT / -FLAGS.SILENT;
#   - imap-idle: K concurrent connections in IDLE (STARTTLS), server RSS before/after, then one message
#     delivered by SMTP and the time until every connection saw its EXISTS.
#
#   scripts/bench-imap.sh                       # N=100000 SAMPLE=1000 K=5000, fetch repeated REPS=3 times
#   N=20000 K=1000 REPS=1 scripts/bench-imap.sh
#   SKIP_BUILD=1 ONLY=fetch scripts/bench-imap.sh
#
# Skjold runs from a release build with its data in $SKJOLD_DIR (default /tmp/skjold-imapbench, loopback
# ports 14525 SMTP / 14143 IMAP; accounts made with the CLI). Populating N messages by APPEND takes long
# on both servers, so the data dirs are kept between runs and only topped up (FRESH=1 starts Skjold's
# over; `../shared/bench/setup-peer.sh wipe` the peer's). The peer is the Postfix+Dovecot instance of
# ../shared/bench/setup-peer.sh (installed and started if needed, root only); its process limits are
# raised here for K IDLE sessions (Dovecot runs one imap process, and with TLS one imap-login process,
# per connection).
#
# Both servers are driven over STARTTLS (Skjold refuses LOGIN before TLS), by the same client, one server
# at a time: the fetch runs alternate the order between repetitions. Before measuring, the script waits
# until Skjold's background indexer has caught up (its text index and parse cache follow deliveries), and
# for the machine to be quiet (load average below LOAD_MAX, at most QUIET_WAIT seconds).
#
# Output: one JSON line per run in $OUT (default /tmp/bench-imap.jsonl) and a summary with ratios.
set -euo pipefail

# The table: medians over the repetitions per server, ratio Skjold/Dovecot, and the issue's targets.
summary() {
    python3 - "$@" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for f in sys.argv[1:] for l in open(f) if l.strip()]
by = {}
for r in rows:
    for k, v in r.get("metrics", {}).items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            by.setdefault((r["bench"], r["label"]), {}).setdefault(k, []).append(v)
    if r["bench"] == "imap-idle":
        m = r.get("metrics", {})
        if m.get("notify_p50_ms") is not None and m.get("deliver_accept_ms") is not None:
            # mailbench times EXISTS from the start of the SMTP transaction; the target counts from its 250.
            by[(r["bench"], r["label"])].setdefault("notify_after_250_p50_ms", []).append(m["notify_p50_ms"] - m["deliver_accept_ms"])
    if not r.get("ok"):
        print(f'note: {r["bench"]} {r["label"]} not ok: {r.get("error")} {r.get("errors")}')
def med(bench, label, key):
    v = by.get((bench, label), {}).get(key)
    return statistics.median(v) if v else None
# (bench, metric, what, unit, target): target "ratio:X" = Skjold <= X * Dovecot; "max:X" = Skjold <= X
table = [
    ("imap-fetch", "mailbox_msgs", "messages in the mailbox", "", None),
    ("imap-fetch", "select_s", "SELECT", "s", None),
    ("imap-fetch", "fetch_meta_s", "UID FETCH 1:* (UID FLAGS ENVELOPE RFC822.SIZE)", "s", "ratio:0.5"),
    ("imap-fetch", "body_one_by_one_s", "BODY.PEEK[] x sample, one command each", "s", None),
    ("imap-fetch", "body_p50_ms", "  one BODY.PEEK[] p50", "ms", None),
    ("imap-fetch", "body_p99_ms", "  one BODY.PEEK[] p99", "ms", None),
    ("imap-fetch", "body_batch_s", "BODY.PEEK[] x sample, one command", "s", None),
    ("imap-fetch", "search_body_rare_s", "UID SEARCH BODY rare word", "s", "ratio:0.05"),
    ("imap-fetch", "search_body_common_s", "UID SEARCH BODY common word", "s", "ratio:0.05"),
    ("imap-fetch", "search_text_rare_s", "UID SEARCH TEXT rare word", "s", None),
    ("imap-fetch", "search_text_common_s", "UID SEARCH TEXT common word", "s", None),
    ("imap-fetch", "store_add_s", "UID STORE 1:* +FLAGS.SILENT (\\Flagged)", "s", "ratio:0.5"),
    ("imap-fetch", "store_remove_s", "UID STORE 1:* -FLAGS.SILENT (\\Flagged)", "s", "ratio:0.5"),
    ("imap-fetch", "server_cpu_s", "server CPU for the whole fetch run", "s", None),
    ("imap-idle", "idle_conns", "IDLE connections", "", None),
    ("imap-idle", "open_all_s", "time to open them (STARTTLS, LOGIN, SELECT, IDLE)", "s", None),
    ("imap-idle", "rss_per_conn_kb", "server RSS per IDLE connection", "KiB", "max:20"),
    ("imap-idle", "pss_per_conn_kb", "server PSS per IDLE connection", "KiB", None),
    ("imap-idle", "deliver_accept_ms", "SMTP delivery until 250", "ms", None),
    ("imap-idle", "notify_after_250_p50_ms", "EXISTS push p50, after the 250", "ms", "max:100"),
    ("imap-idle", "notify_p99_ms", "EXISTS push p99, from the start of the SMTP transaction", "ms", None),
    ("imap-idle", "notify_all_s", "until every connection saw EXISTS", "s", None),
]
fmt = lambda x: "-" if x is None else (f"{x:.4g}" if isinstance(x, float) else str(x))
print(f'{"":58} {"skjold":>10} {"dovecot":>10} {"ratio":>7}  target')
for bench, key, what, unit, target in table:
    s, d = med(bench, "skjold", key), med(bench, "dovecot", key)
    if s is None and d is None:
        continue
    ratio = s / d if s is not None and d else None
    verdict = ""
    if target and s is not None:
        kind, x = target.split(":")
        if kind == "ratio" and ratio is not None:
            verdict = f'<= {x}x: {"met" if ratio <= float(x) else "MISSED"}'
        elif kind == "max":
            verdict = f'<= {x} {unit}: {"met" if s <= float(x) else "MISSED"}'
    label = f"{what} [{unit}]" if unit else what
    print(f'{label:58} {fmt(s):>10} {fmt(d):>10} {fmt(round(ratio, 3)) if ratio is not None else "-":>7}  {verdict}')
reps = {lab: len(by.get(("imap-fetch", lab), {}).get("fetch_meta_s", [])) for lab in ("skjold", "dovecot")}
print(f'(imap-fetch: median of {reps} runs)')
PY
}
[[ -z "${SUMMARY_ONLY:-}" ]] || { summary "$SUMMARY_ONLY"; exit 0; }

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH_DIR="${BENCH_DIR:-$ROOT/../shared/bench}"
MB="$BENCH_DIR/mailbench.py"
N="${N:-100000}"
SAMPLE="${SAMPLE:-1000}"
K="${K:-5000}"
RAMP="${RAMP:-50}"
REPS="${REPS:-3}"
ONLY="${ONLY:-fetch,idle}"
OUT="${OUT:-/tmp/bench-imap.jsonl}"
PASS="${PB_PASS:-Bench-Pass-2026-x9}"
PORT="${SKJOLD_BENCH_PORT:-14525}"
IMAP_PORT=$((PORT - 382))            # 14143 by default
SKJOLD_DIR="${SKJOLD_DIR:-/tmp/skjold-imapbench}"
LOAD_MAX="${LOAD_MAX:-1.5}"
QUIET_WAIT="${QUIET_WAIT:-1200}"
FETCH_USER=user4@bench.test
IDLE_USER=user6@bench.test
MAILBOX="bench-fetch-$N"
export PB_PASS="$PASS"

# Every IDLE connection is a descriptor on both sides (server and mailbench are started from this shell).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) > K + 500 )) || { echo "ulimit -n is $(ulimit -n): too low for K=$K connections" >&2; exit 1; }
cd "$ROOT"
[[ -n "${SKIP_BUILD:-}" ]] || swift build -c release --product skjold --scratch-path .build-release >/dev/null
SKJOLD="$ROOT/.build-release/release/skjold"

# --- Skjold: data dir kept between runs (populating takes long), config with loopback ports
[[ -z "${FRESH:-}" ]] || rm -rf "$SKJOLD_DIR"
CONF="$SKJOLD_DIR/skjold.toml"
if [[ ! -f "$SKJOLD_DIR/ready" ]]; then
    rm -rf "$SKJOLD_DIR"
    mkdir -p "$SKJOLD_DIR"
    cat > "$CONF" <<TOML
hostname = "localhost"
data_dir = "$SKJOLD_DIR/data"
[listen]
smtp = "127.0.0.1:$PORT"
imap = "127.0.0.1:$IMAP_PORT"
[limits]
max_imap_connections = $((K + 1000))
max_imap_connections_per_address = $((K + 1000))
TOML
    "$SKJOLD" domain add bench.test --config "$CONF" >/dev/null
    for u in 1 2 3 4 5 6 7 8; do
        printf '%s\n' "$PASS" | "$SKJOLD" account add "user$u@bench.test" --password-stdin --config "$CONF" >/dev/null
    done
    touch "$SKJOLD_DIR/ready"
fi
sed -i -E "s/^(max_imap_connections(_per_address)?) = .*/\1 = $((K + 1000))/" "$CONF"
ALLOW_ROOT=()
[[ $(id -u) != 0 ]] || ALLOW_ROOT=(--allow-root)   # a throwaway loopback instance; the peer runs as root too
"$SKJOLD" serve --config "$CONF" "${ALLOW_ROOT[@]}" > "$SKJOLD_DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 1 300); do grep -q '^ready' "$SKJOLD_DIR/serve.log" && break; sleep 0.1; done
grep -q '^ready' "$SKJOLD_DIR/serve.log" || { cat "$SKJOLD_DIR/serve.log"; exit 1; }

# --- the peer, with room for K IDLE sessions (one imap and one imap-login process each)
"$BENCH_DIR/setup-peer.sh" >/dev/null
DVCONF=/tmp/peer-bench/dovecot/dovecot.conf
LIMIT=$((K + 1000))
sed -i -E "s/^(\s*(default_)?process_limit) = [0-9]+/\1 = $LIMIT/" "$DVCONF"
doveadm -c "$DVCONF" reload
sleep 2
PEER_PIDS="$("$BENCH_DIR/setup-peer.sh" pids)"

common=(--starttls --password "$PASS" --timeout 7200 --op-timeout 1800)
skjold_args=(--label skjold --imap-port "$IMAP_PORT" --server-pids "$SERVER")
peer_args=(--label dovecot --imap-port 21143 --server-pids "$PEER_PIDS")
skjold_smtp=(--smtp-port "$PORT")
peer_smtp=(--smtp-port 22525)

wait_quiet() {
    local waited=0
    while (( waited < QUIET_WAIT )); do
        awk -v max="$LOAD_MAX" '{ exit !($1 < max) }' /proc/loadavg && return 0
        sleep 10; waited=$((waited + 10))
    done
    echo "   (machine still busy after ${QUIET_WAIT}s: load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
}

# Skjold's text index and parse cache are filled in the background after each delivery; a search or FETCH
# would catch up by itself, but the figures should show the state a user meets, not the backlog.
wait_indexed() {
    local db="" f
    for f in "$SKJOLD_DIR"/data/accounts/*/mail.sqlite; do
        [[ "$(sqlite3 -readonly "$f" "SELECT 1 FROM mailboxes WHERE name = '$MAILBOX'" 2>/dev/null)" == 1 ]] && db="$f"
    done
    [[ -n "$db" ]] || return 0
    local start=$SECONDS
    for _ in $(seq 1 3600); do
        local left
        left="$(sqlite3 -readonly "$db" "SELECT COUNT(*) FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
            WHERE b.name = '$MAILBOX' AND m.uid > COALESCE((SELECT indexed_uid FROM imap_fts_mailboxes WHERE mailbox_id = b.id), 0)" 2>/dev/null || echo 1)"
        [[ "$left" == 0 ]] && { echo "== skjold background index caught up ($((SECONDS - start)) s waited)"; return 0; }
        sleep 1
    done
    echo "== skjold background index did not catch up" >&2
}

: > "$OUT"
run() { python3 "$MB" "$@" --quiet | tee -a "$OUT"; }

if [[ ",$ONLY," == *",fetch,"* ]]; then
    echo "== populate $MAILBOX to $N messages (APPEND; kept for the next run)"
    python3 "$MB" imap-fetch "${common[@]}" "${skjold_args[@]}" --user "$FETCH_USER" -n "$N" --populate-only \
        --populate-concurrency 4 --quiet >/dev/null
    python3 "$MB" imap-fetch "${common[@]}" "${peer_args[@]}" --user "$FETCH_USER" -n "$N" --populate-only \
        --populate-concurrency 1 --quiet >/dev/null
    wait_indexed
    for rep in $(seq 1 "$REPS"); do
        order=(skjold dovecot)
        (( rep % 2 == 0 )) && order=(dovecot skjold)
        for target in "${order[@]}"; do
            wait_quiet
            echo "== imap-fetch $target (rep $rep/$REPS, load $(cut -d' ' -f1 /proc/loadavg))"
            if [[ $target == skjold ]]; then args=("${skjold_args[@]}"); else args=("${peer_args[@]}"); fi
            run imap-fetch "${common[@]}" "${args[@]}" --user "$FETCH_USER" -n "$N" --sample "$SAMPLE"
        done
    done
fi

if [[ ",$ONLY," == *",idle,"* ]]; then
    for target in skjold dovecot; do
        wait_quiet
        echo "== imap-idle $target ($K connections, load $(cut -d' ' -f1 /proc/loadavg))"
        if [[ $target == skjold ]]; then args=("${skjold_args[@]}" "${skjold_smtp[@]}"); else args=("${peer_args[@]}" "${peer_smtp[@]}"); fi
        run imap-idle "${common[@]}" "${args[@]}" --user "$IDLE_USER" -k "$K" --ramp "$RAMP" --deliver smtp \
            --settle 5 --notify-timeout 120 || true
    done
fi

summary "$OUT"
