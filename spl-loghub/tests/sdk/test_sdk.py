"""End-to-end test of spl-loghub with the stock aliyun-log-python-sdk from PyPI.

Usage: test_sdk.py HOST:PORT

The SDK only sends to http://<project>.<endpoint>, so the test routes every request through
HTTP_PROXY to the server, which takes the project from the first label of Host. Nothing in the
SDK is patched: its own response checks (x-log-count, x-log-cursor, x-log-bodyrawsize,
decompression) run on every call.
"""
import os
import random
import sys
import time
from collections import Counter

ADDR = sys.argv[1]
os.environ["HTTP_PROXY"] = "http://" + ADDR
os.environ["http_proxy"] = "http://" + ADDR
for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(name, None)

from aliyun.log import LogClient, LogItem, PutLogsRequest  # noqa: E402
from aliyun.log.log_logs_pb2 import LogGroup  # noqa: E402

PROJECT = "sdkproj"
LOGSTORE = "access"
QUERY = "* | where cast(status as bigint) >= 500 | project status, uri"
STATUSES = ["200", "200", "200", "204", "301", "404", "500", "502", "503", "499"]

client = LogClient("loghub.test:" + ADDR.split(":")[1], "test-ak", "test-secret")
rng = random.Random(7)


def make_contents(g, i):
    status = STATUSES[rng.randrange(len(STATUSES))]
    return [
        ("status", status),
        ("uri", "/api/v1/item/%d/%d" % (g, i)),
        ("method", rng.choice(["GET", "POST", "PUT"])),
        ("latency", str(rng.randrange(1, 5000))),
        ("ua", "Mozilla/5.0 (X11; Linux) ünïcødé 日本"),
    ]


# --- Put 10,000 logs: 50 groups of 200 logs, with topic, source and tags. ---------------
GROUPS, PER_GROUP = 50, 200
sent_raw = []  # serialized LogGroups sent with put_log_raw (compared byte for byte)
sent_rows = []  # (time, contents, topic, source, tags) of every log
base_time = int(time.time()) - 3600
for g in range(GROUPS):
    topic = "topic-%d" % (g % 3)
    source = "10.0.%d.%d" % (g % 4, g)
    tags = [("host", "host-%d" % (g % 5)), ("app", "shop")]
    rows = [(base_time + g * PER_GROUP + i, make_contents(g, i)) for i in range(PER_GROUP)]
    if g % 2 == 0:
        lg = LogGroup()
        lg.Topic = topic
        lg.Source = source
        for k, v in tags:
            t = lg.LogTags.add()
            t.Key, t.Value = k, v
        for ts, contents in rows:
            log = lg.Logs.add()
            log.Time = ts
            for k, v in contents:
                c = log.Contents.add()
                c.Key, c.Value = k, v
        sent_raw.append(lg.SerializeToString())
        client.put_log_raw(PROJECT, LOGSTORE, lg)
    else:
        items = []
        for ts, contents in rows:
            item = LogItem()
            item.set_time(ts)
            item.set_contents(contents)
            items.append(item)
        key = "%032x" % rng.getrandbits(128)
        req = PutLogsRequest(PROJECT, LOGSTORE, topic, source, items, logtags=tags, hashKey=key)
        client.put_logs(req)
    for ts, contents in rows:
        sent_rows.append((ts, tuple(contents), topic, source, tuple(tags)))
assert len(sent_rows) == 10000

shards = client.list_shards(PROJECT, LOGSTORE).get_shards_info()
assert [s["shardID"] for s in shards] == [0, 1], shards


def pull_all(shard, query=None, compress=None):
    """Pulls a shard from begin to the tail; returns (groups, pulls, raw groups counted)."""
    cursor = client.get_begin_cursor(PROJECT, LOGSTORE, shard).get_cursor()
    end = client.get_end_cursor(PROJECT, LOGSTORE, shard).get_cursor()
    groups, pulls, raw_groups = [], 0, 0
    while True:
        res = client.pull_logs(PROJECT, LOGSTORE, shard, cursor, count=7, query=query,
                               compress=compress)
        pulls += 1
        nxt = res.get_next_cursor()
        lgl = res.get_loggroup_list()
        assert len(lgl.LogGroups) == res.get_loggroup_count()
        if query:
            assert res.get_raw_log_group_count_before_query() >= 0
            raw_groups += res.get_raw_log_group_count_before_query()
        groups.extend(lgl.LogGroups)
        if nxt == cursor:
            break
        cursor = nxt
    assert cursor == end, "the cursor reached the tail"
    return groups, pulls, raw_groups


def rows_of(groups):
    out = []
    for lg in groups:
        tags = tuple((t.Key, t.Value) for t in lg.LogTags)
        for log in lg.Logs:
            out.append((log.Time, tuple((c.Key, c.Value) for c in log.Contents), lg.Topic,
                        lg.Source, tags))
    return out


# --- Pull with the query: exactly the matching rows, only status and uri. -------------------
t0 = time.time()
filtered, total_groups, pulls = [], 0, 0
for shard in (0, 1):
    groups, n, raw = pull_all(shard, QUERY)
    filtered.extend(groups)
    pulls += n
    total_groups += raw
t_query = time.time() - t0
assert total_groups == GROUPS, total_groups
expected = Counter()
for ts, contents, topic, source, tags in sent_rows:
    c = dict(contents)
    if int(c["status"]) >= 500:
        expected[(ts, (("status", c["status"]), ("uri", c["uri"])), topic, source, tags)] += 1
got = Counter(rows_of(filtered))
assert got == expected, "matching rows differ: %d expected, %d got" % (
    sum(expected.values()), sum(got.values()))
for lg in filtered:
    for log in lg.Logs:
        assert [c.Key for c in log.Contents] == ["status", "uri"]
# The SDK's flattened view works on the filtered response too.
res = client.pull_logs(PROJECT, LOGSTORE, 0,
                       client.get_begin_cursor(PROJECT, LOGSTORE, 0).get_cursor(),
                       count=5, query=QUERY)
for row in res.get_flatten_logs_json():
    keys = set(row) - {"__time__", "__time_ns_part__", "__topic__", "__source__"}
    keys = {k for k in keys if not k.startswith("__tag__:")}
    assert keys == {"status", "uri"}, row

# --- Pull without a query: every row, stored groups byte for byte. ---------------------------
t0 = time.time()
everything = []
for shard in (0, 1):
    groups, _, _ = pull_all(shard)
    everything.extend(groups)
t_plain = time.time() - t0
uncompressed = []
for shard in (0, 1):
    groups, _, _ = pull_all(shard, compress=False)
    uncompressed.extend(groups)
assert len(everything) == GROUPS
assert Counter(rows_of(everything)) == Counter(sent_rows)
assert Counter(rows_of(uncompressed)) == Counter(sent_rows)
pulled_raw = Counter(lg.SerializeToString() for lg in everything)
for raw in sent_raw:
    assert pulled_raw[raw] >= 1, "a put_log_raw group came back byte for byte"

# --- Tail, end_cursor and an SPL error. ---------------------------------------------------
end = client.get_end_cursor(PROJECT, LOGSTORE, 0).get_cursor()
res = client.pull_logs(PROJECT, LOGSTORE, 0, end, query=QUERY)
assert res.get_next_cursor() == end and res.get_loggroup_count() == 0
begin = client.get_begin_cursor(PROJECT, LOGSTORE, 1).get_cursor()
res = client.pull_logs(PROJECT, LOGSTORE, 1, begin, count=1000, end_cursor=begin)
assert res.get_loggroup_count() == 0 and res.get_next_cursor() == begin
try:
    client.pull_logs(PROJECT, LOGSTORE, 0, begin, query="* | where status == 500")
    raise AssertionError("an invalid query must fail")
except Exception as e:  # LogException
    assert getattr(e, "get_error_code", lambda: "")() == "InvalidSplQuery", e

matching = sum(expected.values())
print("ok: %d logs in %d groups put; %d matching rows pulled with the query in %d pulls "
      "(%.2fs); all %d rows pulled without a query (%.2fs)"
      % (len(sent_rows), GROUPS, matching, pulls, t_query, len(sent_rows), t_plain))
