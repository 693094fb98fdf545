"""Consumer groups with the stock aliyun-log-python-sdk: ConsumerWorker + LogHubConfig(query=SPL).

Usage: test_consumer.py SERVER_BINARY DATA_DIR

Starts the server itself (it is restarted in the last phase), with `--pushdown-failures drop`,
and checks, over a 2-shard logstore created with the SDK's create_logstore:
  1. two workers in one group share the shards and process every matching row exactly once,
     with only the projected fields (rows whose status is not a number are dropped);
  2. one worker stopped: its shard moves to the other after the group's timeout, no row lost or
     processed twice;
  3. the server restarted: new workers resume from the stored checkpoints (rows before them are
     not processed again).
Every request is signed: the server runs with a keys file, and the test checks that an unsigned
request and one signed with a wrong secret are refused.
Heartbeats are 1 s (group timeout 2 s), so each phase takes a few seconds.
"""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

BIN, DATA = sys.argv[1], sys.argv[2]
PROJECT, LOGSTORE, GROUP = "sdkproj", "orders", "billing"
QUERY = "* | where cast(status as bigint) >= 500 | project status, id"
STATUSES = ["200", "500", "503", "abc", "404", "502"]
DEADLINE = 120  # seconds a phase may take before the test gives up (keeps a broken run from hanging)

logging.basicConfig(level=logging.ERROR)


KEYS = os.path.join(os.path.dirname(os.path.abspath(DATA)), "keys")
os.makedirs(os.path.dirname(KEYS), exist_ok=True)
with open(KEYS, "w") as f:
    f.write("# test keys\ntest-ak:test-secret\n")


def start_server(listen):
    proc = subprocess.Popen(
        [BIN, "--listen", listen, "--data-dir", DATA, "--pushdown-failures", "drop",
         "--keys-file", KEYS],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        proc.kill()
        raise SystemExit("server did not start: %r %s" % (line, proc.stderr.read()))
    return proc, line[len("listening on "):]


def stop_server(proc):
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)


server, ADDR = start_server("127.0.0.1:0")
os.environ["HTTP_PROXY"] = os.environ["http_proxy"] = "http://" + ADDR
for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(name, None)

from aliyun.log import LogClient, LogItem, PutLogsRequest  # noqa: E402
from aliyun.log.consumer import (ConsumerProcessorBase, ConsumerWorker,  # noqa: E402
                                 CursorPosition, LogHubConfig)
from aliyun.log.logexception import LogException  # noqa: E402

ENDPOINT = "loghub.test:" + ADDR.split(":")[1]
client = LogClient(ENDPOINT, "test-ak", "test-secret")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


# --- Signed requests -----------------------------------------------------------------------
import requests  # noqa: E402  (installed with the SDK)

r = requests.get("http://%s.%s/logstores" % (PROJECT, ENDPOINT))
check(r.status_code == 401 and r.json().get("errorCode") == "Unauthorized",
      "an unsigned request is refused: %s %s" % (r.status_code, r.text))
try:
    LogClient(ENDPOINT, "test-ak", "wrong-secret").list_logstore(PROJECT)
    check(False, "a wrongly signed request is refused")
except LogException as e:
    check(e.get_error_code() == "SignatureNotMatch", "wrong secret: " + e.get_error_code())

# --- Logstore management with the SDK ----------------------------------------------------------
client.create_logstore(PROJECT, LOGSTORE, ttl=7, shard_count=2)
try:
    client.create_logstore(PROJECT, LOGSTORE, ttl=7, shard_count=2)
    check(False, "a second create_logstore fails")
except LogException as e:
    check(e.get_error_code() == "LogStoreAlreadyExist", "LogStoreAlreadyExist: " + e.get_error_code())
client.create_logstore(PROJECT, "scratch", shard_count=1)
client.update_logstore(PROJECT, "scratch", ttl=3)
res = client.get_logstore(PROJECT, "scratch")
check((res.get_ttl(), res.get_shard_count()) == (3, 1), "get_logstore after update_logstore")
check(sorted(client.list_logstore(PROJECT).get_logstores()) == [LOGSTORE, "scratch"], "list_logstore")
client.delete_logstore(PROJECT, "scratch")
check(client.list_logstore(PROJECT).get_logstores() == [LOGSTORE], "delete_logstore")
try:
    client.split_shard(PROJECT, LOGSTORE, 0, "8" + "0" * 31)
    check(False, "split_shard is refused")
except LogException as e:
    check(e.get_error_code() == "Unsupported", "split_shard: " + e.get_error_code())

SHARD_KEYS = ["0" * 32, "8" + "0" * 31]  # shard 0, shard 1
sent = {}  # id -> status


def put_batch(tag, groups=6, per_group=50):
    for g in range(groups):
        items = []
        for i in range(per_group):
            rid = "%s-%d-%d" % (tag, g, i)
            status = STATUSES[(g * per_group + i) % len(STATUSES)]
            sent[rid] = status
            item = LogItem()
            item.set_time(int(time.time()))
            item.set_contents([("id", rid), ("status", status), ("uri", "/p/" + rid), ("ua", "curl")])
            items.append(item)
        client.put_logs(PutLogsRequest(PROJECT, LOGSTORE, "t", "s", items, hashKey=SHARD_KEYS[g % 2]))


def matching(tag):
    return {rid for rid, st in sent.items() if rid.startswith(tag + "-") and st.isdigit() and int(st) >= 500}


lock = threading.Lock()
seen = []  # (consumer, shard, id)
bad_rows = []


class Processor(ConsumerProcessorBase):
    def __init__(self, consumer):
        super(Processor, self).__init__()
        self.consumer = consumer
        self.checkpoint_timeout = 0.5

    def process(self, log_groups, check_point_tracker):
        with lock:
            for group in log_groups.LogGroups:
                for log in group.Logs:
                    fields = {c.Key: c.Value for c in log.Contents}
                    if set(fields) != {"status", "id"}:
                        bad_rows.append(fields)
                    seen.append((self.consumer, self.shard_id, fields.get("id")))
        self.save_checkpoint(check_point_tracker)


def worker(name):
    option = LogHubConfig(ENDPOINT, "test-ak", "test-secret", PROJECT, LOGSTORE, GROUP, name,
                          cursor_position=CursorPosition.BEGIN_CURSOR, heartbeat_interval=1,
                          data_fetch_interval=0.2, query=QUERY)
    w = ConsumerWorker(Processor, option, args=(name,))
    w.start()
    return w


def wait_for(cond, what):
    end = time.time() + DEADLINE
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.2)
    check(False, "timed out waiting for " + what)
    return False


def ids_seen(tag):
    with lock:
        return [rid for _, _, rid in seen if rid.startswith(tag + "-")]


def exactly_once(tag, phase):
    got = Counter(ids_seen(tag))
    want = matching(tag)
    dups = sorted(r for r, n in got.items() if n > 1)
    check(not dups, "%s: %d rows processed twice, e.g. %s" % (phase, len(dups), dups[:3]))
    check(set(got) == want, "%s: %d rows missing, %d unexpected" % (
        phase, len(want - set(got)), len(set(got) - want)))


# --- 1. Two workers share the group ------------------------------------------------------------
started = time.time()
put_batch("a")
w1, w2 = worker("c1"), worker("c2")
wait_for(lambda: set(ids_seen("a")) >= matching("a"), "phase 1 rows")
wait_for(lambda: sorted(w1.heart_beat.get_held_shards() + w2.heart_beat.get_held_shards()) == [0, 1]
         and len(w1.heart_beat.get_held_shards()) == 1, "one shard per worker")
exactly_once("a", "phase 1")
check(not bad_rows, "only the projected fields arrive: %s" % bad_rows[:2])
groups = {g.get_consumer_group_name(): g.get_timeout() for g in client.list_consumer_group(
    PROJECT, LOGSTORE).get_consumer_groups()}
check(groups == {GROUP: 2}, "list_consumer_group: %s" % groups)
print("phase 1: %d rows exactly once over 2 workers in %.1f s" % (len(matching("a")), time.time() - started))

# --- 2. One worker stops: its shard moves after the timeout ------------------------------------
started = time.time()
stopped_shards = w2.heart_beat.get_held_shards()
w2.shutdown()
w2.join(30)
put_batch("b")
wait_for(lambda: set(ids_seen("b")) >= matching("b"), "phase 2 rows")
exactly_once("b", "phase 2")
with lock:
    late_c2 = [rid for c, _, rid in seen if c == "c2" and rid.startswith("b-")]
check(not late_c2, "the stopped worker processed nothing more")
check(sorted(w1.heart_beat.get_held_shards()) == [0, 1], "the remaining worker holds both shards")
print("phase 2: shard %s moved; %d rows exactly once in %.1f s" % (
    stopped_shards, len(matching("b")), time.time() - started))

# --- 3. Server restarted: workers resume from stored checkpoints ------------------------------
started = time.time()
w1.shutdown()
w1.join(30)
stored = client.get_check_point(PROJECT, LOGSTORE, GROUP).get_consumer_group_check_points()
check(len(stored) == 2 and all(c["checkpoint"] for c in stored), "both checkpoints stored: %s" % stored)
put_batch("c")
stop_server(server)
server, _ = start_server(ADDR)
again = client.get_check_point(PROJECT, LOGSTORE, GROUP).get_consumer_group_check_points()
check([c["checkpoint"] for c in again] == [c["checkpoint"] for c in stored], "checkpoints survive the restart")
w3, w4 = worker("c3"), worker("c4")
wait_for(lambda: set(ids_seen("c")) >= matching("c"), "phase 3 rows")
time.sleep(1)  # room for any row that would be processed twice to show up
for w in (w3, w4):
    w.shutdown()
for w in (w3, w4):
    w.join(30)
exactly_once("c", "phase 3")
with lock:
    again_old = [rid for c, _, rid in seen if c in ("c3", "c4") and not rid.startswith("c-")]
check(not again_old, "nothing before the checkpoints is processed again (%d rows)" % len(again_old))
print("phase 3: resumed from checkpoints after a restart; %d rows exactly once in %.1f s" % (
    len(matching("c")), time.time() - started))

stop_server(server)
if failures:
    print("%d check(s) failed" % len(failures))
    sys.exit(1)
print("consumer-group test passed: %d rows processed exactly once" % len(seen))
