"""Rough pull throughput of spl-loghub with and without a query (not a test).

Usage: bench_pull.py HOST:PORT [GROUPS] [LOGS_PER_GROUP]

Puts GROUPS LogGroups of LOGS_PER_GROUP access-log rows with the SDK's protobuf classes, then
pulls shard 0 and 1 from begin to the tail over plain HTTP (lz4), timing the server round trips
and counting rows and bytes returned, with no query and with a filtering/projecting query.
"""
import http.client
import random
import sys
import time
import urllib.parse

import lz4.block
from aliyun.log.log_logs_pb2 import LogGroup, LogGroupList

host, port = sys.argv[1].split(":")
groups = int(sys.argv[2]) if len(sys.argv) > 2 else 200
per_group = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
H = {"Host": "bench.loghub.test"}
conn = http.client.HTTPConnection(host, int(port))
rng = random.Random(1)
statuses = ["200"] * 7 + ["301", "404", "500", "502", "503"]

raw_bytes = 0
for g in range(groups):
    lg = LogGroup()
    lg.Topic, lg.Source = "t", "10.0.0.%d" % (g % 250)
    t = lg.LogTags.add()
    t.Key, t.Value = "host", "h%d" % (g % 10)
    for i in range(per_group):
        log = lg.Logs.add()
        log.Time = 1700000000 + i
        for k, v in (("status", rng.choice(statuses)), ("uri", "/api/item/%d" % i),
                     ("method", "GET"), ("latency", str(rng.randrange(5000))),
                     ("ua", "Mozilla/5.0 (X11; Linux x86_64) bench")):
            c = log.Contents.add()
            c.Key, c.Value = k, v
    body = lg.SerializeToString()
    raw_bytes += len(body)
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
    rows = groups_out = wire = raw = 0
    elapsed = 0.0
    for shard in (0, 1):
        _, body = get("/logstores/bench/shards/%d?type=cursor&from=begin" % shard)
        cursor = __import__("json").loads(body)["cursor"]
        while True:
            q = {"type": "log", "cursor": cursor, "count": "100"}
            if query:
                q["query"] = query
            t0 = time.perf_counter()
            r, body = get("/logstores/bench/shards/%d?%s" % (shard, urllib.parse.urlencode(q)))
            elapsed += time.perf_counter() - t0
            assert r.status == 200, body
            nxt = r.getheader("x-log-cursor")
            size = int(r.getheader("x-log-bodyrawsize"))
            wire += len(body)
            raw += size
            if size:
                data = lz4.block.decompress(body, uncompressed_size=size)
                lgl = LogGroupList()
                lgl.ParseFromString(data)
                groups_out += len(lgl.LogGroups)
                rows += sum(len(x.Logs) for x in lgl.LogGroups)
            if nxt == cursor:
                break
            cursor = nxt
    return rows, groups_out, raw, wire, elapsed


total = groups * per_group
print("stored: %d rows in %d groups, %.1f MB protobuf" % (total, groups, raw_bytes / 1e6))
for name, query in (("no query", None),
                    ("where status>=500 | project status, uri",
                     "* | where cast(status as bigint) >= 500 | project status, uri"),
                    ("where status = '200' (no projection)", "* | where status = '200'")):
    rows, g, raw, wire, s = pull_all(query)
    print("%-42s %8d rows %6d groups  body %7.2f MB (lz4 %6.2f MB)  %.2fs  %9.0f rows scanned/s  %6.1f MB scanned/s"
          % (name, rows, g, raw / 1e6, wire / 1e6, s, total / s, raw_bytes / 1e6 / s))
