.request_id as $r | (.payload | fromjson) as $p
| $p.items[] | select(.qty >= 3) | {request_id: $r, order_id: $p.order_id, sku, qty, price}
