#!/usr/bin/env bash
# A complete Aegis automation run: sign in, create a test from a catalog template, walk it
# through the red/blue workflow to "validated", attach evidence, and download the coverage
# CSV. Needs bash, curl and jq.
#
#   AEGIS_URL=https://aegis.example.org AEGIS_USER=ci AEGIS_PASSWORD=... \
#   AEGIS_TEMPLATE=T1059.001 ./automation.sh evidence.log
#
# or, better for CI, with an API token instead of a password: AEGIS_TOKEN=aegis_pat_...
#
# One account does every step here (an admin may act for both teams and both leads); in a
# real exercise each team signs in with its own account and does its own steps.
set -euo pipefail

: "${AEGIS_URL:?the server, e.g. https://aegis.example.org}"
TEMPLATE_SEARCH="${AEGIS_TEMPLATE:-}"   # a technique id or words from a template's name
EVIDENCE="${1:?a file to attach as evidence}"
OUT="${AEGIS_OUT:-coverage.csv}"
API="$AEGIS_URL/api/v1"

# Every call fails the script on an HTTP error and prints the API's {"detail": ...}.
call() {
  local method=$1 path=$2 body=${3:-}
  local args=(-sS -X "$method" -H "Authorization: Bearer $TOKEN" -w '\n%{http_code}')
  [[ -n $body ]] && args+=(-H 'Content-Type: application/json' --data "$body")
  local answer status
  answer=$(curl "${args[@]}" "$API$path")
  status=${answer##*$'\n'}
  answer=${answer%$'\n'*}
  if (( status >= 400 )); then
    echo "$method $path failed ($status): $(jq -r '.detail // .' <<<"$answer")" >&2
    exit 1
  fi
  printf '%s' "$answer"
}

# 1. Sign in (unless given an API token): the answer's access_token is the bearer token.
if [[ -n ${AEGIS_TOKEN:-} ]]; then
  TOKEN=$AEGIS_TOKEN
else
  : "${AEGIS_USER:?who signs in (or set AEGIS_TOKEN)}"
  : "${AEGIS_PASSWORD:?their password}"
  TOKEN=$(curl -sS --fail-with-body -H 'Content-Type: application/json' \
    --data "$(jq -n --arg u "$AEGIS_USER" --arg p "$AEGIS_PASSWORD" '{username: $u, password: $p}')" \
    "$API/auth/login" | jq -r .access_token)
fi

# 2. Pick an active template and create a test from it.
TEMPLATE=$(call GET "/test-templates?limit=1&search=$(jq -rn --arg s "$TEMPLATE_SEARCH" '$s|@uri')" \
  | jq -r '.items[0].id // empty')
[[ -n $TEMPLATE ]] || { echo "no active template matches '$TEMPLATE_SEARCH'" >&2; exit 1; }
TEST=$(call POST /tests/from-template "$(jq -n --arg t "$TEMPLATE" \
  '{template_id: $t, title: "Nightly CI exercise", target_environment: "ci-lab"}')")
ID=$(jq -r .id <<<"$TEST")
echo "created test $ID ($(jq -r .technique_id <<<"$TEST"))"

# 3. Red team: run the attack, record it with its evidence, hand it to the blue team.
call POST "/tests/$ID/start-execution" >/dev/null
call PATCH "/tests/$ID/red" "$(jq -n '{tool_used: "ci-runner", command_executed: "powershell -enc …",
  output_observed: "exit code 0"}')" >/dev/null
# Evidence is a multipart upload: the file, whose side it is, what it shows.
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" \
  -F "file=@$EVIDENCE" -F team=red -F "description=Runner log" \
  "$API/tests/$ID/evidence" | jq -r '"evidence \(.id): \(.filename), \(.size_bytes) bytes"'
call POST "/tests/$ID/submit-red" >/dev/null

# 4. Blue team: what was detected, then submit for validation.
call PATCH "/tests/$ID/blue" '{"detection_result": "detected", "blue_notes": "Alert fired in the SIEM"}' >/dev/null
call POST "/tests/$ID/submit-blue" >/dev/null

# 5. Both leads approve: the test is validated and counts as coverage.
call POST "/tests/$ID/validate-red" '{"status": "approved"}' >/dev/null
STATE=$(call POST "/tests/$ID/validate-blue" '{"status": "approved"}' | jq -r .state)
echo "test $ID is $STATE"
[[ $STATE == validated ]]

# 6. The coverage report as CSV, one row per technique.
curl -sS --fail-with-body -H "Authorization: Bearer $TOKEN" -o "$OUT" "$API/reports/coverage-csv"
echo "coverage: $OUT ($(($(wc -l <"$OUT") - 1)) techniques)"

# Sign out the session (an API token is kept for the next run).
[[ -n ${AEGIS_TOKEN:-} ]] || call POST /auth/logout >/dev/null
