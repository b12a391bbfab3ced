#!/usr/bin/env python3
"""A loopback DNS server for Skjold's delivery tests (dnslib), answering from a JSON zone.

Zone file: {"name.": {"MX": [[10, "mx1.name."]], "A": ["127.0.0.1"], "AAAA": [], "rcode": "SERVFAIL"}, ...}
Names not in the zone answer NXDOMAIN; a name without records of the asked type answers NOERROR with no
data (and an SOA in the authority section). "rcode" forces a response code for every question about
the name. Listens on UDP and TCP at 127.0.0.1:PORT; prints "ready PORT".

usage: dns_server.py ZONE.json PORT
"""
import json, sys, time

from dnslib import DNSRecord, RR, QTYPE, RCODE, MX, A, AAAA, TXT, SOA
from dnslib.server import DNSServer, BaseResolver, DNSLogger


class ZoneResolver(BaseResolver):
    def __init__(self, zone):
        self.zone = {k.lower().rstrip(".") + ".": v for k, v in zone.items()}

    def resolve(self, request, handler):
        reply = request.reply()
        qname = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        entry = self.zone.get(qname)
        if entry is None:
            reply.header.rcode = RCODE.NXDOMAIN
            return reply
        if "rcode" in entry:
            reply.header.rcode = getattr(RCODE, entry["rcode"])
            return reply
        for value in entry.get(qtype, []):
            if qtype == "MX":
                reply.add_answer(RR(qname, QTYPE.MX, ttl=60, rdata=MX(value[1], value[0])))
            elif qtype == "A":
                reply.add_answer(RR(qname, QTYPE.A, ttl=60, rdata=A(value)))
            elif qtype == "AAAA":
                reply.add_answer(RR(qname, QTYPE.AAAA, ttl=60, rdata=AAAA(value)))
            elif qtype == "TXT":
                reply.add_answer(RR(qname, QTYPE.TXT, ttl=60, rdata=TXT(value)))
        if not reply.rr:
            reply.add_auth(RR(qname, QTYPE.SOA, ttl=60,
                              rdata=SOA("ns.test.", "hostmaster.test.", (1, 3600, 600, 86400, 60))))
        return reply


def main():
    with open(sys.argv[1]) as f:
        zone = json.load(f)
    port = int(sys.argv[2])
    resolver = ZoneResolver(zone)
    quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data", False)
    udp = DNSServer(resolver, port=port, address="127.0.0.1", logger=quiet)
    tcp = DNSServer(resolver, port=port, address="127.0.0.1", tcp=True, logger=quiet)
    udp.start_thread()
    tcp.start_thread()
    print("ready %d" % port, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
