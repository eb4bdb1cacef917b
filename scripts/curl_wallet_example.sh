#!/usr/bin/env bash
# Sign in as the demo customer (seeded with 50.00 PEN of store credit), place an order and pay
# it with 30.00 from the wallet and the rest with the simulated card token. The wallet part is
# authorized first (a hold); the card's success captures it and the order becomes paid.
set -euo pipefail
API=${API:-http://127.0.0.1:8000/api/v1}
TOKEN=$(curl -s -X POST "$API/auth/token" -H 'Content-Type: application/json' \
  -d '{"email": "customer@gamarriando.pe", "password": "customer-demo-2026"}' \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["access"])')
AUTH="Authorization: Bearer $TOKEN"
curl -s "$API/wallet" -H "$AUTH"; echo
ORDER=$(curl -s -X POST "$API/orders" -H "$AUTH" -H 'Content-Type: application/json' \
  -d '{"items": [{"product_id": 1, "quantity": 2}], "shipping_address": {"street": "Jr. Gamarra 123", "city": "Lima", "state": "Lima", "postal_code": "15018", "country": "PE"}}')
ORDER_ID=$(echo "$ORDER" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
REST=$(echo "$ORDER" | python3 -c 'import json, sys; from decimal import Decimal; print(Decimal(json.load(sys.stdin)["total_amount"]) - Decimal("30.00"))')
WALLET_PAYMENT=$(curl -s -X POST "$API/payments" -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"order_id\": $ORDER_ID, \"payment_method\": \"wallet\", \"amount\": \"30.00\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -s -X POST "$API/payments/$WALLET_PAYMENT/process" -H "$AUTH" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: wallet-$ORDER_ID" -d '{"capture": false}'; echo
CARD_PAYMENT=$(curl -s -X POST "$API/payments" -H "$AUTH" -H 'Content-Type: application/json' \
  -d "{\"order_id\": $ORDER_ID, \"payment_method\": \"simulated\", \"amount\": \"$REST\"}" \
  | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -s -X POST "$API/payments/$CARD_PAYMENT/process" -H "$AUTH" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: card-$ORDER_ID" -d '{"payment_method_id": "tok_success"}'; echo
curl -s "$API/orders/$ORDER_ID" -H "$AUTH" | python3 -c 'import json, sys; print("order", json.load(sys.stdin)["status"])'
curl -s "$API/wallet" -H "$AUTH"; echo
