"""Pushdown scan throughput of a running LogHub server, with and without a query (a benchmark,
not a test). Run it through benches/pushdown.sh, which builds and starts the server.

Usage: bench_pull.py HOST:PORT [GROUPS] [LOGS_PER_GROUP] [REPEAT]

Puts GROUPS LogGroups of LOGS_PER_GROUP access-log rows (the SDK's protobuf classes, lz4), then
pulls both shards from begin to the tail REPEAT times per query (pulls of 100 groups, lz4) and
reports, per query: rows returned, stored MB scanned, the server's own time (the sum of its
`x-log-process-time-us` headers: reading the shard, the query, encoding and compressing the
answer), MB scanned per second of server time (one pull runs on one core), and the bytes of the
answer raw and on the wire.
"""
import http.client
import json
import random
import sys
import time
import urllib.parse

import lz4.block
from aliyun.log.log_logs_pb2 import LogGroup, LogGroupList

host, port = sys.argv[1].split(":")
groups = int(sys.argv[2]) if len(sys.argv) > 2 else 200
per_group = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 3
H = {"Host": "bench.loghub.test"}
conn = http.client.HTTPConnection(host, int(port))
rng = random.Random(1)
statuses = ["200"] * 7 + ["301", "404", "500", "502", "503"]
methods = ["GET"] * 6 + ["POST", "PUT"]

stored = 0
for g in range(groups):
    lg = LogGroup()
    lg.Topic, lg.Source = "nginx", "10.0.0.%d" % (g % 250)
    t = lg.LogTags.add()
    t.Key, t.Value = "host", "h%d" % (g % 10)
    for i in range(per_group):
        log = lg.Logs.add()
        log.Time = 1700000000 + g * per_group + i
        for k, v in (("remote_addr", "192.168.%d.%d" % (rng.randrange(256), rng.randrange(256))),
                     ("method", rng.choice(methods)),
                     ("uri", "/api/v1/item/%d?page=%d" % (rng.randrange(100000), rng.randrange(20))),
                     ("status", rng.choice(statuses)),
                     ("body_bytes_sent", str(rng.randrange(100000))),
                     ("request_time", "%.3f" % (rng.random() * 2)),
                     ("referer", "https://example.com/page/%d" % rng.randrange(1000)),
                     ("user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                                    "(KHTML, like Gecko) Chrome/120.0 Safari/537.36")):
            c = log.Contents.add()
            c.Key, c.Value = k, v
    body = lg.SerializeToString()
    stored += len(body)
    comp = lz4.block.compress(body, store_size=False)
    conn.request("POST", "/logstores/bench/shards/lb", comp,
                 dict(H, **{"x-log-compresstype": "lz4", "x-log-bodyrawsize": str(len(body))}))
    r = conn.getresponse()
    r.read()
    assert r.status == 200, r.status


def get(path):
    conn.request("GET", path, headers=dict(H, **{"Accept-Encoding": "lz4"}))
    r = conn.getresponse()
    return r, r.read()


def pull_all(query):
    rows = raw = wire = server_us = 0
    started = time.perf_counter()
    for shard in (0, 1):
        _, body = get("/logstores/bench/shards/%d?type=cursor&from=begin" % shard)
        cursor = json.loads(body)["cursor"]
        while True:
            q = {"type": "log", "cursor": cursor, "count": "100"}
            if query:
                q["query"] = query
            r, body = get("/logstores/bench/shards/%d?%s" % (shard, urllib.parse.urlencode(q)))
            assert r.status == 200, body
            server_us += int(r.getheader("x-log-process-time-us"))
            nxt = r.getheader("x-log-cursor")
            size = int(r.getheader("x-log-bodyrawsize"))
            wire += len(body)
            raw += size
            if size:
                lgl = LogGroupList()
                lgl.ParseFromString(lz4.block.decompress(body, uncompressed_size=size))
                rows += sum(len(x.Logs) for x in lgl.LogGroups)
            if nxt == cursor:
                break
            cursor = nxt
    return rows, raw, wire, server_us / 1e6, time.perf_counter() - started


total = groups * per_group
print("stored: %d rows in %d groups, %.1f MB protobuf; each query pulls everything %d times"
      % (total, groups, stored / 1e6, repeat))
print("| pull | rows returned | MB scanned | server s | MB/s scanned (server, 1 core) "
      "| answer MB raw / lz4 |")
print("|---|---|---|---|---|---|")
for name, query in (("no query", None),
                    ("`where status = '200'`", "* | where status = '200'"),
                    ("`where cast(status as bigint) >= 500 | project status, uri`",
                     "* | where cast(status as bigint) >= 500 | project status, uri"),
                    ("`where method = 'POST' and cast(request_time as double) > 1.0 "
                     "| project remote_addr, uri, request_time`",
                     "* | where method = 'POST' and cast(request_time as double) > 1.0 "
                     "| project remote_addr, uri, request_time")):
    best = None
    for _ in range(repeat):
        rows, raw, wire, server_s, _client_s = pull_all(query)
        if best is None or server_s < best[3]:
            best = (rows, raw, wire, server_s)
    rows, raw, wire, server_s = best
    print("| %s | %d | %.1f | %.3f | %.0f | %.2f / %.2f |"
          % (name.replace("|", "\\|"), rows, stored / 1e6, server_s, stored / 1e6 / server_s,
             raw / 1e6, wire / 1e6))
