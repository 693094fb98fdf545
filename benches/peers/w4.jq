[inputs | select((.status | tonumber) < 500) | [.method, .status, (.latency | tonumber), .ip]]
| group_by(.[0], .[1])
| map({method: .[0][0], status: .[0][1], c: length, avg_lat: (map(.[2]) | add / length),
       p99: (map(.[2]) | sort | .[((length - 1) * 0.99 | floor)]), users: (map(.[3]) | unique | length)})
| sort_by(-.c, .method, .status) | .[:20][]
