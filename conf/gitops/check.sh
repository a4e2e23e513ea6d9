#!/usr/bin/env bash
# Validates the shared configuration once per environment file, as CI does on every change.
#
#   conf/gitops/check.sh [ENV_FILE...]        (default: every *.env beside this script)
#   LOGBRIDGE=/path/to/logbridge conf/gitops/check.sh
#
# Each environment file is loaded into a clean environment (env -i: a variable missing from the
# file fails the check instead of leaking in from the CI runner), then `logbridge check` loads the
# configuration exactly as `logbridge run` would and names any bad key with its line.
# CI has no secrets: every ${file:/etc/logbridge/secrets/NAME} is pointed at a stand-in file, so
# the check proves structure and values; the real secrets are checked on the machine itself by the
# systemd unit's ExecStartPre=logbridge check.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
logbridge="${LOGBRIDGE:-logbridge}"
config="${CONFIG:-$here/logbridge.yaml}"
if [ "$#" -eq 0 ]; then set -- "$here"/*.env; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Stand-in secrets, shaped like the real ones so format checks still run.
printf '%s' 'Endpoint=sb://example.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c3RhbmQtaW4=' > "$work/eventhubs"
printf '%s' '00000000-0000-0000-0000-000000000000' > "$work/hec-token"
for name in $(grep -o '\${file:/etc/logbridge/secrets/[A-Za-z0-9._-]*}' "$config" | sed 's#.*/##; s#}##' | sort -u); do
    [ -e "$work/$name" ] || printf '%s' 'stand-in-secret-0123456789abcdef' > "$work/$name"
done
sed "s#\${file:/etc/logbridge/secrets/#\${file:$work/#g" "$config" > "$work/logbridge.yaml"

status=0
for env_file in "$@"; do
    # KEY=value lines only (systemd EnvironmentFile syntax without quotes or continuation lines).
    mapfile -t assignments < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$env_file")
    if env -i PATH="$PATH" "${assignments[@]}" "$logbridge" check --config "$work/logbridge.yaml" > "$work/out" 2>&1; then
        echo "ok   $(basename "$env_file"): $(basename "$config") is valid"
    else
        echo "FAIL $(basename "$env_file"): $(basename "$config")"
        sed "s#$work/logbridge.yaml#$config#; s/^/     /" "$work/out"
        status=1
    fi
done
exit "$status"
