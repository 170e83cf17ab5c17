#!/usr/bin/env bash
# Stops the single-node Slurm cluster that start-cluster.sh started: slurmd,
# slurmctld, then munged. Stopping a cluster that is not running succeeds.
set -euo pipefail

readonly RUN_DIR=/run/slurm

# Whether a process is alive; a zombie waiting for its parent to reap it is not.
alive() {
  ps -p "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

# Sends SIGTERM to the process in a pid file and waits up to 10 s for it to exit.
stop_pidfile() {
  local name="$1" pidfile="$2" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if alive "$pid"; then
    kill "$pid"
    for _ in $(seq 1 100); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      echo "stop-cluster: $name (pid $pid) did not exit within 10 s" >&2
      exit 1
    fi
  fi
  rm -f "$pidfile"
  echo "stop-cluster: stopped $name"
}

stop_pidfile slurmd "$RUN_DIR/slurmd.pid"
stop_pidfile slurmctld "$RUN_DIR/slurmctld.pid"
stop_pidfile munged /run/munge/munged.pid
