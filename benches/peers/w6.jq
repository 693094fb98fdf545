[split(" ")[] | index("=") as $i | {key: .[:$i], value: .[$i + 1:]}] | from_entries
| select((.status | tonumber) >= 400) | {ts, level, svc, path, status, dur_ms, user}
