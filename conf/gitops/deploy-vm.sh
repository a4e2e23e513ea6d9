#!/usr/bin/env bash
# Deploys the shared configuration and one environment file to logbridge VMs, then reloads.
#
#   conf/gitops/deploy-vm.sh ENV HOST...      e.g. deploy-vm.sh prod logbridge-01 logbridge-02
#
# Replaces the per-environment sed edits and rsync scripts: the file in git is the file that runs.
# On each host the new files are staged, checked by the installed binary against the host's real
# secrets, and only then moved into place. A changed configuration file is applied with
# `systemctl reload` (SIGHUP: tuning, endpoints and pipeline rules apply without a restart, losing
# and repeating nothing; a change that needs a restart is refused and reported in the journal). A
# changed environment file needs `systemctl restart`: a process reads its environment once, at
# start (the restart drains, and the spool keeps everything). A failed check leaves the running
# configuration untouched. Hosts are done one at a time so a bad file stops the rollout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
env_name="${1:?usage: deploy-vm.sh ENV HOST...}"
shift
[ "$#" -gt 0 ] || { echo "usage: deploy-vm.sh ENV HOST..." >&2; exit 2; }
env_file="$here/$env_name.env"
[ -f "$env_file" ] || { echo "no environment file $env_file" >&2; exit 2; }

for host in "$@"; do
    echo "== $host"
    rsync -a --chmod=F0640 "$here/logbridge.yaml" "$host:/etc/logbridge/logbridge.yaml.new"
    rsync -a --chmod=F0640 "$env_file" "$host:/etc/logbridge/logbridge.env.new"
    ssh "$host" 'set -e
        cd /etc/logbridge
        set -a; . ./logbridge.env.new; set +a
        logbridge check --config logbridge.yaml.new > /dev/null
        chgrp logbridge logbridge.yaml.new logbridge.env.new
        action=reload
        cmp -s logbridge.env.new logbridge.env || action=restart
        mv logbridge.env.new logbridge.env
        mv logbridge.yaml.new logbridge.yaml
        echo "systemctl $action logbridge"
        systemctl "$action" logbridge
        sleep 2
        journalctl -u logbridge --since "-10s" --no-pager | grep -E "configuration reloaded|reload" || true'
done
