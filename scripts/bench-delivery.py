#!/usr/bin/env python3
"""Outbound delivery throughput: N queued messages to a loopback SMTP sink (issue: outbound delivery).

    swift build -c release --product skjold --scratch-path .build-release
    python3 scripts/bench-delivery.py [--n 2000] [--size 4096] [--tls] [--skjold .build-release/release/skjold]

1. Starts the sink (scripts/testing/smtp_sink.py, aiosmtpd, STARTTLS with --tls) and Skjold with
   `[delivery] hold = true`, a route for sink.test to the sink, and a plan that allows N recipients a day.
2. Submits N messages over 16 authenticated submission connections (they wait in the queue).
3. Restarts Skjold without hold and times until the sink has received all N; reports messages/s and the
   number of SMTP connections Skjold opened to the sink. Loopback only.
"""
import argparse, json, os, shutil, signal, smtplib, ssl, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "Bench-Delivery-Pass-2026"


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_server(skjold, config, extra=()):
    log = open(config + ".log", "a")
    root = ["--allow-root"] if os.geteuid() == 0 else []
    proc = subprocess.Popen([skjold, "serve", "--config", config, *root, *extra], stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(config + ".log") as f:
            if any(line.startswith("ready") for line in f):
                return proc
        time.sleep(0.1)
    proc.kill()
    sys.exit("skjold did not start; see " + config + ".log")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--tls", action="store_true", help="the sink offers STARTTLS (Skjold always takes it)")
    ap.add_argument("--skjold", default=os.path.join(ROOT, ".build-release/release/skjold"))
    ap.add_argument("--connections", type=int, default=16, help="submission connections used to fill the queue")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="skjold-bench-delivery.")
    sink_port, submission_port = free_port(), free_port()
    config = os.path.join(work, "skjold.toml")
    with open(config, "w") as f:
        f.write(f"""hostname = "localhost"
data_dir = "{work}/data"
[listen]
submission = "127.0.0.1:{submission_port}"
[limits]
burst_recipients = {args.n * 10}
[plans.bench]
outgoing_per_day = {args.n * 10}
[delivery]
hold = true
[delivery.routes]
"sink.test" = "127.0.0.1:{sink_port}"
""")
    subprocess.run([args.skjold, "domain", "add", "bench.test", "--config", config], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([args.skjold, "account", "add", "sender@bench.test", "--plan", "bench", "--password-stdin", "--config", config],
                   input=PASSWORD.encode(), check=True, stdout=subprocess.DEVNULL)
    out = os.path.join(work, "sink")
    sink_args = [sys.executable, os.path.join(ROOT, "scripts/testing/smtp_sink.py"), out, str(sink_port)]
    if args.tls:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(work, "k.pem"), "-out", os.path.join(work, "c.pem"), "-days", "2",
                        "-subj", "/CN=sink.test"], check=True, capture_output=True)
        sink_args += ["--tls", os.path.join(work, "c.pem"), os.path.join(work, "k.pem")]
    sink = subprocess.Popen(sink_args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert sink.stdout.readline().startswith(b"ready")
    server = start_server(args.skjold, config)
    try:
        body = ("x" * 76 + "\r\n") * max(1, args.size // 78)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        per = args.n // args.connections
        errors = []

        def fill(k):
            try:
                with smtplib.SMTP("127.0.0.1", submission_port, timeout=60) as s:
                    s.starttls(context=ctx)
                    s.login("sender@bench.test", PASSWORD)
                    count = per + (args.n % args.connections if k == 0 else 0)
                    for i in range(count):
                        msg = (f"From: sender@bench.test\r\nTo: rcpt{i % 50}@sink.test\r\nSubject: bench {k}-{i}\r\n"
                               f"Message-ID: <bench-{k}-{i}@bench.test>\r\n\r\n{body}")
                        s.sendmail("sender@bench.test", [f"rcpt{i % 50}@sink.test"], msg.encode())
            except Exception as e:
                errors.append(repr(e))

        t0 = time.time()
        threads = [threading.Thread(target=fill, args=(k,)) for k in range(args.connections)]
        for t in threads: t.start()
        for t in threads: t.join()
        if errors:
            sys.exit("submission failed: " + errors[0])
        print(f"queued {args.n} messages in {time.time() - t0:.1f} s (delivery on hold)")
        stop(server)

        start = time.time()
        server = start_server(args.skjold, config, ["--set", "delivery.hold=false"])
        ready = time.time()
        stats = {}
        while time.time() - start < 600:
            try:
                with open(os.path.join(out, "stats.json")) as f:
                    stats = json.load(f)
            except (FileNotFoundError, json.JSONDecodeError):
                pass
            if stats.get("messages", 0) >= args.n:
                break
            time.sleep(0.05)
        elapsed = time.time() - ready
        delivered = stats.get("messages", 0)
        # The queue must be empty afterwards (every entry removed after its 250).
        time.sleep(1)
        queue = subprocess.run([args.skjold, "queue", "list", "--config", config], capture_output=True, text=True).stdout.strip()
        result = {"messages": delivered, "seconds": round(elapsed, 2), "msgs_per_s": round(delivered / elapsed, 1),
                  "connections": stats.get("connections"), "tls": args.tls, "size": args.size,
                  "queue_after": queue.splitlines()[0] if queue else ""}
        print(json.dumps(result))
    finally:
        stop(server)
        sink.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
