#!/usr/bin/env python3
"""Memory and byte-exactness of a 100 MiB attachment received over SMTP and fetched back over POP3
(issues: SMTP and POP3, acceptance).

Starts a release-built `skjold serve` on a throwaway data dir (loopback), sends one message with a
100 MiB attachment (base64, ~137 MB on the wire, with 8-bit text and dot-leading lines in front) to
the MX port, samples the server's RSS every 5 ms while it receives and stores, then reads the stored
message back from the account's folder and compares it with what was sent (after the trace headers).

    scripts/bench-smtp-memory.py [--attachment-mib 100]

Then RETRieves it over POP3 with implicit TLS (poplib) while sampling RSS again, and checks the
downloaded message is the stored one.

Prints one JSON line per phase: rss_before_mib, rss_peak_mib, rss_delta_mib, seconds, byte_exact.
Exit status 0 iff both are byte-exact and each RSS rise is below 64 MiB.
"""
import argparse, base64, glob, json, os, poplib, smtplib, ssl, subprocess, sys, tempfile, threading, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attachment-mib", type=int, default=100)
    ap.add_argument("--port", type=int, default=12625)
    args = ap.parse_args()

    subprocess.run(["swift", "build", "-c", "release", "--product", "skjold", "--scratch-path", ".build-release"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    skjold = os.path.join(ROOT, ".build-release/release/skjold")
    work = tempfile.mkdtemp(prefix="skjold-mem-")
    config = os.path.join(work, "skjold.toml")
    with open(config, "w") as f:
        f.write(f'hostname = "localhost"\ndata_dir = "{work}/data"\n[listen]\nsmtp = "127.0.0.1:{args.port}"\n'
                f'pop3s = "127.0.0.1:{args.port + 1}"\n')
    run = lambda *a, **k: subprocess.run([skjold, *a, "--config", config], check=True, stdout=subprocess.DEVNULL, **k)
    run("domain", "add", "bench.test")
    run("account", "add", "big@bench.test", "--password-stdin", input=b"Big-Pass-2026-x9\n")
    log = open(os.path.join(work, "serve.log"), "w")
    root = ["--allow-root"] if os.geteuid() == 0 else []  # a throwaway benchmark server may stay root
    server = subprocess.Popen([skjold, "serve", "--config", config, *root], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and "ready" not in open(os.path.join(work, "serve.log")).read():
            time.sleep(0.05)

        payload = os.urandom(args.attachment_mib << 20)
        encoded = base64.encodebytes(payload).replace(b"\n", b"\r\n")
        head = ("From: a@example.org\r\nTo: big@bench.test\r\nSubject: big \u00e9\r\nMIME-Version: 1.0\r\n"
                "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + "Gr\u00fc\u00dfe \u00e6\u00f8\u00e5\r\n.leading dot\r\n..two dots\r\n".encode()
        message = head + b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--b--\r\n"

        before = rss_mib(server.pid)
        peak = [before]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_mib(server.pid))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.time()
        with smtplib.SMTP("127.0.0.1", args.port, timeout=600) as s:
            s.sendmail("a@example.org", ["big@bench.test"], message)  # smtplib dot-stuffs on the wire
        send_s = time.time() - start
        done.set()
        sampler.join()

        blobs = [p for p in glob.glob(os.path.join(work, "data/accounts/*/blobs/*/*")) if os.path.isfile(p)]
        stored = open(max(blobs, key=os.path.getsize), "rb").read()
        # The stored message is: Return-Path, Delivered-To, Received (folded) + exactly what was sent.
        body_start = stored.index(b"From: a@example.org\r\n")
        trace = stored[:body_start].decode()
        exact = stored[body_start:] == message and trace.startswith("Return-Path: <a@example.org>\r\nDelivered-To: big@bench.test\r\nReceived: ")
        result = {"bench": "smtp-100mib", "attachment_mib": args.attachment_mib, "wire_mib": round(len(message) / 2**20, 1),
                  "rss_before_mib": round(before, 1), "rss_peak_mib": round(peak[0], 1),
                  "rss_delta_mib": round(peak[0] - before, 1), "send_s": round(send_s, 2),
                  "mib_per_s": round(len(message) / 2**20 / send_s, 1), "byte_exact": exact}
        print(json.dumps(result))
        smtp_ok = exact and peak[0] - before < 64

        # POP3: RETR the same message, streamed from the stored file.
        before = rss_mib(server.pid)
        peak = [before]
        done.clear()
        sampler = threading.Thread(target=sample)
        sampler.start()
        ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
        start = time.time()
        p = poplib.POP3_SSL("127.0.0.1", args.port + 1, context=ctx, timeout=600)
        p._maxline = 1 << 20
        p.user("big@bench.test"); p.pass_("Big-Pass-2026-x9")
        _, lines, octets = p.retr(1)
        p.quit()
        retr_s = time.time() - start
        done.set()
        sampler.join()
        fetched = b"\r\n".join(lines) + b"\r\n"
        pop_exact = fetched == stored
        result = {"bench": "pop3-retr-100mib", "octets": octets, "rss_before_mib": round(before, 1),
                  "rss_peak_mib": round(peak[0], 1), "rss_delta_mib": round(peak[0] - before, 1),
                  "retr_s": round(retr_s, 2), "mib_per_s": round(len(fetched) / 2**20 / retr_s, 1), "byte_exact": pop_exact}
        print(json.dumps(result))
        return 0 if smtp_ok and pop_exact and peak[0] - before < 64 else 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
