#!/usr/bin/env bash
# Sign in as the demo customer, place an order, pay it with the simulated gateway.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
TOKEN=$(curl -s -X POST "$API/auth/token" -H 'Content-Type: application/json' \
  -d '{"email": "customer@gamarriando.pe", "password": "customer-demo-2026"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
ORDER=$(curl -s -X POST "$API/orders" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"items": [{"product_id": 1, "quantity": 2}], "shipping_address": {"street": "Jr. Gamarra 123", "city": "Lima", "state": "Lima", "postal_code": "15018", "country": "PE"}}')
echo "$ORDER"
ORDER_ID=$(echo "$ORDER" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
TOTAL=$(echo "$ORDER" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total_amount"])')
PAYMENT_ID=$(curl -s -X POST "$API/payments" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"order_id\": $ORDER_ID, \"payment_method\": \"simulated\", \"amount\": \"$TOTAL\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -s -X POST "$API/payments/$PAYMENT_ID/process" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -H "Idempotency-Key: demo-$ORDER_ID" -d '{"payment_method_id": "tok_success"}'
echo
