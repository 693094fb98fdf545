#!/usr/bin/env python3
"""Generate the deterministic inputs of the workloads W5-W7 (benches/compare.sh).

    gen_more.py N OUT_DIR

Writes, next to the access logs of the shared kit's gen_logs.py:
- OUT_DIR/events.jsonl: N flat JSON objects, all values strings, as an agent ships them:
  time (Unix seconds), method, url (absolute, always with an `id` query parameter), user_agent,
  request_id, ctx (a nested JSON object as text: user id/tier, region) and payload (a JSON object
  as text with an order id and an array of 0-4 item objects: sku, qty as a JSON number, price
  as a string). W5 (functions) and W7 (nested JSON + expansion) read it.
- OUT_DIR/app.logfmt: N logfmt-style lines (key=value pairs separated by one space, no quoting,
  no spaces inside values) of an application log. W6 (key-value) reads it.

Seeded (random.Random(7)) so a run is reproducible and a prefix of a larger N is the same.
"""
import json
import os
import random
import sys
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
out = sys.argv[2] if len(sys.argv) > 2 else "."
rnd = random.Random(7)
hosts = ["shop.example.com", "api.example.com", "cdn.example.net", "auth.example.org"]
paths = ["/api/v1/users", "/api/v1/orders", "/api/v2/items", "/static/app.js", "/login",
         "/search", "/checkout/cart", "/health"]
methods = ["GET"] * 8 + ["POST"] * 3 + ["PUT", "DELETE"]
agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
          "curl/8.4.0", "Go-http-client/1.1", "python-requests/2.31.0",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15"]
tiers = ["free", "free", "free", "pro", "gold"]
regions = ["eu-west", "eu-central", "us-east", "us-west", "ap-south"]
levels = ["info"] * 12 + ["debug"] * 4 + ["warn"] * 2 + ["error"]
services = ["api", "auth", "billing", "search", "cart"]
statuses = ["200"] * 80 + ["201"] * 3 + ["204"] * 2 + ["301", "302", "304"] * 2 + \
    ["400", "401", "403", "404"] * 2 + ["500", "502", "503"]
skus = [f"SKU-{i:04d}" for i in range(200)]
t0 = 1700000000
os.makedirs(out, exist_ok=True)
dumps = json.JSONEncoder(separators=(",", ":")).encode
with open(os.path.join(out, "events.jsonl"), "w") as ev, open(os.path.join(out, "app.logfmt"), "w") as kv:
    for i in range(n):
        ts = t0 + i // 50
        rid = f"{rnd.getrandbits(64):016x}"
        url = f"https://{rnd.choice(hosts)}{rnd.choice(paths)}?id={rnd.randint(1, 99999)}"
        if rnd.random() < 0.5:
            url += f"&page={rnd.randint(1, 20)}"
        ctx = dumps({"user": {"id": f"u{rnd.randint(1, 50000)}", "tier": rnd.choice(tiers)},
                     "region": rnd.choice(regions)})
        items = [{"sku": rnd.choice(skus), "qty": rnd.randint(1, 5),
                  "price": f"{rnd.randint(100, 99999) / 100:.2f}"}
                 for _ in range(rnd.randint(0, 4))]
        payload = dumps({"order_id": f"o{rnd.randint(1, 10**9)}", "items": items})
        ev.write(dumps({"time": str(ts), "method": rnd.choice(methods), "url": url,
                        "user_agent": rnd.choice(agents), "request_id": rid, "ctx": ctx,
                        "payload": payload}) + "\n")
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        kv.write(f"ts={iso} level={rnd.choice(levels)} svc={rnd.choice(services)} "
                 f"method={rnd.choice(methods)} path={rnd.choice(paths)} "
                 f"status={rnd.choice(statuses)} dur_ms={rnd.randint(0, 2000)} "
                 f"user=u{rnd.randint(1, 50000)} trace={rid} msg=request_done\n")
