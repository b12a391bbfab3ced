#!/usr/bin/env python3
"""Connection limits under abuse, against a running Skjold (Robustness issue). Loopback only, bounded.

    scripts/bench-limits.py --smtp-port 2525 --recipient demo@skjold.test

Phase 1, idle flood: opens --idle (2,000) connections from 127.0.0.1 to the SMTP port and classifies
the first reply of each: a greeting (admitted, up to [limits] max_connections_per_address), or 421
(refused past the cap). While they are all held, a client from 127.0.0.2 must still get its 220 and
deliver a message; its delivery time is measured.

Phase 2, slowloris: --slowloris (500) connections from 127.0.0.1 each send one byte per second of a
command line that never ends, for --slowloris-seconds; meanwhile a normal client from 127.0.0.2
delivers a message every second. Prints the normal client's delivery times (target: < 1 s each) and
what became of the slow connections (refused at once, cut by the command deadline, still open).

Needs 127.0.0.2 to be usable as a source address (Linux routes all of 127/8 to lo). Raises its own
open-file limit (RLIMIT_NOFILE) as far as the hard limit allows. Prints a JSON line at the end.
"""
import argparse, json, resource, selectors, smtplib, socket, statistics, sys, threading, time


def raise_fd_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def connect_from(source, host, port, timeout=10):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect((host, port))
    s.setblocking(False)
    return s


def first_replies(sockets, deadline):
    """Reads each socket's first line (or end of stream) until the deadline; returns one result per socket."""
    results = [None] * len(sockets)
    buffers = [b""] * len(sockets)
    sel = selectors.DefaultSelector()
    for i, s in enumerate(sockets):
        sel.register(s, selectors.EVENT_READ, i)
    pending = len(sockets)
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=max(0.0, min(0.5, deadline - time.monotonic()))):
            i = key.data
            try:
                chunk = key.fileobj.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                chunk = b""
            buffers[i] += chunk
            if b"\n" in buffers[i] or not chunk:
                results[i] = buffers[i].split(b"\r\n")[0].decode("ascii", "replace") if buffers[i] else "EOF"
                sel.unregister(key.fileobj)
                pending -= 1
    sel.close()
    return [r if r is not None else "TIMEOUT" for r in results]


def classify(line):
    if line.startswith("220"):
        return "admitted"
    if line.startswith("421"):
        return "refused"
    return "other:" + line[:40]


def deliver(source, host, port, recipient, tag):
    """One SMTP delivery from `source`; returns (seconds from connect to the 250 after DATA, total with QUIT)."""
    start = time.monotonic()
    with smtplib.SMTP(host, port, timeout=30, source_address=(source, 0)) as s:
        s.ehlo("bench.example.net")
        body = ("From: bench@example.net\r\nTo: %s\r\nSubject: bench-limits %s\r\n\r\nhello %s\r\n" % (recipient, tag, tag)).encode()
        refused = s.sendmail("bench@example.net", [recipient], body)
        if refused:
            raise RuntimeError("recipient refused: %r" % refused)
        delivered = time.monotonic() - start
    return delivered, time.monotonic() - start


def idle_flood(args):
    sockets, failures = [], 0
    opened_at = time.monotonic()
    for _ in range(args.idle):
        try:
            sockets.append(connect_from(args.flood_source, args.host, args.smtp_port))
        except OSError:
            failures += 1
    opened = time.monotonic() - opened_at
    replies = first_replies(sockets, time.monotonic() + args.reply_wait)
    counts = {}
    for line in replies:
        kind = classify(line)
        counts[kind] = counts.get(kind, 0) + 1
    # The flood is still open (the admitted part holds its sessions): a client from elsewhere must get in.
    greeting_start = time.monotonic()
    with socket.create_connection((args.host, args.smtp_port), timeout=10, source_address=(args.normal_source, 0)) as probe:
        greeting = probe.recv(512).decode("ascii", "replace").split("\r\n")[0]
    greeting_seconds = time.monotonic() - greeting_start
    delivered, total = deliver(args.normal_source, args.host, args.smtp_port, args.recipient, "idle-flood")
    for s in sockets:
        s.close()
    return {
        "connections": args.idle, "connect_failures": failures, "open_seconds": round(opened, 3),
        "admitted": counts.get("admitted", 0), "refused": counts.get("refused", 0),
        "no_reply": counts.get("TIMEOUT", 0) + counts.get("other:EOF", 0),
        "other": {k: v for k, v in counts.items() if k.startswith("other:") and k != "other:EOF"},
        "normal_greeting": greeting, "normal_greeting_seconds": round(greeting_seconds, 3),
        "normal_delivery_seconds": round(delivered, 3), "normal_total_seconds": round(total, 3),
    }


def slowloris(args):
    line = b"EHLO " + b"s" * 4000 + b"\r\n"  # longer than the run: never completes
    sockets, failures = [], 0
    for _ in range(args.slowloris):
        try:
            sockets.append(connect_from(args.flood_source, args.host, args.smtp_port))
        except OSError:
            failures += 1
    first = first_replies(sockets, time.monotonic() + args.reply_wait)
    admitted = [s for s, r in zip(sockets, first) if classify(r) == "admitted"]
    refused = sum(1 for r in first if classify(r) == "refused")
    for s, r in zip(sockets, first):
        if classify(r) != "admitted":
            s.close()

    stop = threading.Event()
    cut, replies_after = [0], {}
    def trickle():
        position = 0
        alive = list(admitted)
        while not stop.is_set() and alive:
            still = []
            for s in alive:
                try:
                    s.send(line[position:position + 1])
                    still.append(s)
                except OSError:
                    cut[0] += 1
            alive = still
            position += 1
            # Collect what the server said to the slow ones (a 421 when their deadline hits).
            readable = selectors.DefaultSelector()
            for s in alive:
                readable.register(s, selectors.EVENT_READ)
            for key, _ in readable.select(timeout=0):
                try:
                    data = key.fileobj.recv(4096)
                except OSError:
                    data = b""
                text = data.decode("ascii", "replace").split("\r\n")[0][:12] if data else "EOF"
                replies_after[text] = replies_after.get(text, 0) + 1
            readable.close()
            stop.wait(1.0)
        return alive
    holder = {}
    thread = threading.Thread(target=lambda: holder.setdefault("alive", trickle()))
    thread.start()
    times, errors = [], []
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < args.slowloris_seconds:
        try:
            delivered, _ = deliver(args.normal_source, args.host, args.smtp_port, args.recipient, "slowloris-%d" % n)
            times.append(delivered)
        except Exception as e:  # noqa: BLE001 - reported, not fatal
            errors.append(type(e).__name__ + ": " + str(e)[:80])
        n += 1
        time.sleep(max(0.0, started + n - time.monotonic()))
    stop.set()
    thread.join()
    alive = holder.get("alive", [])
    for s in sockets:
        s.close()
    return {
        "connections": args.slowloris, "connect_failures": failures, "admitted": len(admitted), "refused": refused,
        "seconds": args.slowloris_seconds, "still_open_at_end": len(alive), "closed_by_server": cut[0],
        "server_said": replies_after,
        "normal_deliveries": len(times), "normal_errors": errors,
        "normal_delivery_seconds_max": round(max(times), 3) if times else None,
        "normal_delivery_seconds_median": round(statistics.median(times), 3) if times else None,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smtp-port", type=int, required=True, help="the MX listener (port 25 style)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--recipient", default="demo@skjold.test", help="a hosted address the MX port accepts")
    ap.add_argument("--flood-source", default="127.0.0.1")
    ap.add_argument("--normal-source", default="127.0.0.2")
    ap.add_argument("--idle", type=int, default=2000)
    ap.add_argument("--slowloris", type=int, default=500)
    ap.add_argument("--slowloris-seconds", type=float, default=15.0)
    ap.add_argument("--reply-wait", type=float, default=10.0, help="how long to wait for the first replies")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("loopback only")
    limit = raise_fd_limit(max(args.idle, args.slowloris) + 256)
    if limit < max(args.idle, args.slowloris) + 64:
        sys.exit("open-file limit %d is too low for %d connections" % (limit, max(args.idle, args.slowloris)))

    idle = idle_flood(args)
    print("idle flood: %d connections from %s: %d admitted, %d refused with 421, %d without reply; "
          "a client from %s got %r in %.3f s and delivered in %.3f s"
          % (idle["connections"], args.flood_source, idle["admitted"], idle["refused"], idle["no_reply"],
             args.normal_source, idle["normal_greeting"][:40], idle["normal_greeting_seconds"], idle["normal_delivery_seconds"]))
    time.sleep(1.0)  # let the server see the flood's closes
    slow = slowloris(args)
    print("slowloris: %d connections (%d admitted, %d refused) trickling 1 byte/s for %.0f s; "
          "normal deliveries from %s: %d, median %.3f s, max %.3f s, errors %d; slow ones still open at the end: %d"
          % (slow["connections"], slow["admitted"], slow["refused"], slow["seconds"], args.normal_source,
             slow["normal_deliveries"], slow["normal_delivery_seconds_median"] or -1, slow["normal_delivery_seconds_max"] or -1,
             len(slow["normal_errors"]), slow["still_open_at_end"]))
    print(json.dumps({"idle_flood": idle, "slowloris": slow}))
    ok = idle["normal_greeting"].startswith("220") and slow["normal_delivery_seconds_max"] is not None \
        and slow["normal_delivery_seconds_max"] < 1.0 and not slow["normal_errors"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
