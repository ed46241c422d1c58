#!/usr/bin/env bash
# fanout's jobs API with curl: submit a job, read its status, page through its results, cancel one.
# curl (7.75 or later) signs each request with SigV4 for the `lambda` service itself (--aws-sigv4),
# as the API's Function URL (AWS_IAM auth) and `npx fanout emulator`'s local API require.
#
#   export FANOUT_API_URL=...   AWS_ACCESS_KEY_ID=...   AWS_SECRET_ACCESS_KEY=...   AWS_REGION=us-east-1
#   examples/api/curl.sh square '[1,2,3,4,5]'
set -euo pipefail

api="${FANOUT_API_URL:?set FANOUT_API_URL to the ApiUrl output of the stack, or what npx fanout emulator prints}"
task="${1:-square}"
items="${2:-[1,2,3,4,5]}"
sign=(--aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:lambda" --user "${AWS_ACCESS_KEY_ID:?}:${AWS_SECRET_ACCESS_KEY:?}")
# Temporary credentials (a role, SSO) come with a session token, sent (and signed) as a header.
if [ -n "${AWS_SESSION_TOKEN:-}" ]; then sign+=(-H "x-amz-security-token: ${AWS_SESSION_TOKEN}"); fi
# One signed request; an error answer ({"error": {"code", "message"}}) is printed on stderr and stops the script.
call() {
  local body status=0
  body=$(curl -sS --fail-with-body "${sign[@]}" "$@") || status=$?
  if [ "$status" -ne 0 ]; then
    echo "curl.sh: ${*: -1} failed (curl exit $status): $body" >&2
    exit "$status"
  fi
  printf '%s\n' "$body"
}
field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# POST /jobs -> 202 {"jobId", "total"}
submitted=$(call -X POST -H 'content-type: application/json' --data "{\"task\":\"$task\",\"items\":$items}" "$api/jobs")
echo "submitted $submitted"
job=$(printf '%s' "$submitted" | field jobId)

# GET /jobs/{jobId} -> 200 {"jobId", "task", "status", "total", "done", "failed", ...}
status=$(call "$api/jobs/$job")
echo "status $status"

# GET /jobs/{jobId}/results[?next=TOKEN] -> 200 {"results": [...], "errors": [...], "next"?}
# A page stops at the first unfinished chunk; without "next", the last result is read.
next=""
delay=0.1
while :; do
  if [ -z "$next" ]; then
    page=$(call "$api/jobs/$job/results")
  else
    # (curl 7.x signs a query with %-escapes wrongly; fanout's tokens are URL-safe, so none are needed.)
    page=$(call --get --data-urlencode "next=$next" "$api/jobs/$job/results")
  fi
  case "$page" in *'"results":[]'*) ;; *) echo "page $page" ;; esac
  next=$(printf '%s' "$page" | field next)
  [ -n "$next" ] || break
  case "$page" in
    *'"results":[]'*)
      # Nothing new: the job runs on. Back off (to 2 s), and stop if it was cancelled.
      sleep "$delay"
      delay=$(awk -v d="$delay" 'BEGIN { print (d * 2 > 2) ? 2 : d * 2 }')
      status=$(call "$api/jobs/$job")
      case "$status" in *'"status":"cancelled"'*) echo "curl.sh: job $job was cancelled" >&2; exit 1 ;; esac
      ;;
    *) delay=0.1 ;;
  esac
done

# DELETE /jobs/{jobId} -> 202 {"jobId", "status": "cancelled"}: a second job, cancelled at once.
other=$(call -X POST -H 'content-type: application/json' --data "{\"task\":\"$task\",\"items\":$items}" "$api/jobs")
cancelled=$(call -X DELETE "$api/jobs/$(printf '%s' "$other" | field jobId)")
echo "cancelled $cancelled"
