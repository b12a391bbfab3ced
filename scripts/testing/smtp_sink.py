#!/usr/bin/env python3
"""A loopback SMTP receiver for Skjold's delivery tests and benchmarks (aiosmtpd).

Writes every accepted message to OUT/NNNNNN.eml (the bytes as received) with OUT/NNNNNN.json beside it
(envelope, whether the session used TLS, TLS version and cipher). Its behaviour is read from OUT/mode at
each RCPT: "accept" (default), "tempfail" (451 at RCPT), "reject" (550 at RCPT). Counts every RCPT and
every connection in OUT/stats.json. Prints "ready PORT" once listening. Loopback only.

usage: smtp_sink.py OUT PORT [--tls CERT KEY] [--no-tls]
"""
import asyncio, json, os, ssl, sys, threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out
        self.lock = threading.Lock()
        self.count = 0
        self.stats = {"connections": 0, "rcpt": 0, "messages": 0}

    def mode(self):
        try:
            with open(os.path.join(self.out, "mode")) as f:
                return f.read().strip() or "accept"
        except FileNotFoundError:
            return "accept"

    def save_stats(self):
        tmp = os.path.join(self.out, "stats.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.stats, f)
        os.replace(tmp, os.path.join(self.out, "stats.json"))

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.lock:
            # The first EHLO of a connection is always before STARTTLS (aiosmtpd starts a new session
            # object after it), so plaintext EHLOs count connections.
            if session.ssl is None:
                self.stats["connections"] += 1
                self.save_stats()
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.stats["rcpt"] += 1
            self.save_stats()
        mode = self.mode()
        if mode == "tempfail":
            return "451 4.3.0 try again later (sink)"
        if mode == "reject":
            return "550 5.1.1 <%s>: no such user here (sink)" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.append(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = None
        if session.ssl is not None:
            obj = server.transport.get_extra_info("ssl_object")
            if obj is not None:
                tls = {"version": obj.version(), "cipher": obj.cipher()[0]}
            else:
                tls = {"version": "?", "cipher": "?"}
        with self.lock:
            self.count += 1
            n = self.count
            self.stats["messages"] += 1
            self.save_stats()
        base = os.path.join(self.out, "%06d" % n)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        meta = {"mail_from": envelope.mail_from, "mail_options": envelope.mail_options,
                "rcpt_tos": envelope.rcpt_tos, "rcpt_options": envelope.rcpt_options, "tls": tls}
        with open(base + ".json", "w") as f:
            json.dump(meta, f)
        os.replace(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 Ok: queued as sink%06d" % n


def main():
    out, port = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    context = None
    if "--tls" in sys.argv:
        i = sys.argv.index("--tls")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[i + 1], sys.argv[i + 2])
    sink = Sink(out)
    kwargs = {"hostname": "127.0.0.1", "port": port, "data_size_limit": 200 * 1024 * 1024,
              "enable_SMTPUTF8": True, "ready_timeout": 10}
    if context is not None:
        kwargs["tls_context"] = context
    controller = Controller(sink, **kwargs)
    controller.start()
    print("ready %d" % port, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
