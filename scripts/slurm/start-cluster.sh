#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the mixwright Slurm tests.
#
# Installs Debian's slurm-wlm and munge when missing, writes /etc/slurm/slurm.conf
# for this host (name, cores and memory), creates the munge key, starts munged,
# slurmctld and slurmd as background daemons (no systemd is needed) and waits until
# sinfo reports the node idle. Running it again on a running cluster only checks
# that the node is idle; set MIXWRIGHT_SLURM_RECONFIGURE=1 to rewrite the
# configuration and restart the daemons.
#
# Must run as root. Environment:
#   MIXWRIGHT_SLURM_WAIT_S     seconds to wait for an idle node (default 60)
#   MIXWRIGHT_SLURM_MEM_MARGIN_MB  memory kept back from Slurm (default: 5%, at least 512)
#   MIXWRIGHT_SLURM_FORCE=1    replace a slurm.conf that this script did not write
#   MIXWRIGHT_SLURM_OVERSUBSCRIBE  jobs each core runs at once (default 4)
set -euo pipefail

readonly CONF_DIR=/etc/slurm
readonly CONF="$CONF_DIR/slurm.conf"
readonly LOG_DIR=/var/log/slurm
readonly STATE_DIR=/var/lib/slurm/slurmctld
readonly SPOOL_DIR=/var/lib/slurm/slurmd
readonly RUN_DIR=/run/slurm
readonly WAIT_S="${MIXWRIGHT_SLURM_WAIT_S:-60}"

fail() {
  echo "start-cluster: $*" >&2
  for log in "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log" /var/log/munge/munged.log; do
    if [ -f "$log" ]; then
      echo "--- last lines of $log ---" >&2
      tail -n 20 "$log" >&2
    fi
  done
  exit 1
}

if [ "$(id -u)" -ne 0 ]; then
  echo "start-cluster: must run as root (it installs packages and starts daemons)" >&2
  exit 1
fi

# --- packages -------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  echo "start-cluster: installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

# --- already running? -------------------------------------------------------
# Whether a live (not zombie) process has this exact name. A stopped daemon can stay
# a zombie for a while in a container whose init reaps late.
running() {
  ps -C "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

node_state() {
  sinfo --noheader --format=%t 2>/dev/null | head -n 1 | tr -d '*~#!%$@^-'
}

if [ "${MIXWRIGHT_SLURM_RECONFIGURE:-0}" != 1 ] && running slurmctld && running slurmd; then
  case "$(node_state)" in
    idle | mix | alloc)
      echo "start-cluster: cluster already running ($(sinfo --noheader --format='%n %t %c CPUs %m MB'))"
      exit 0
      ;;
  esac
fi

# --- configuration ------------------------------------------------------------
# Never overwrite a configuration this script did not write, such as a real cluster's.
readonly MARKER="# Written by mixwright scripts/slurm/start-cluster.sh"
if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF" && [ "${MIXWRIGHT_SLURM_FORCE:-0}" != 1 ]; then
  echo "start-cluster: $CONF was not written by this script; set MIXWRIGHT_SLURM_FORCE=1 to replace it" >&2
  exit 1
fi
host="$(hostname -s)"
cpus="$(nproc)"
mem_total_mb=$(( $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo) / 1024 ))
margin_mb="${MIXWRIGHT_SLURM_MEM_MARGIN_MB:-$(( mem_total_mb / 20 > 512 ? mem_total_mb / 20 : 512 ))}"
real_mem_mb=$(( mem_total_mb - margin_mb ))
# Jobs that do not pass --mem get this much per CPU, so a job without --mem does not
# reserve the whole node (the default under CR_Core_Memory).
def_mem_per_cpu=1024
# Each core runs up to this many jobs at once. Test tasks mostly wait on files and
# sleeps, and several test files submit at the same time, so strict one-job-per-core
# scheduling would queue them behind each other on a small machine.
oversubscribe="${MIXWRIGHT_SLURM_OVERSUBSCRIBE:-4}"
# Socket, core and thread counts come from slurmd's own probe when it reports the
# same CPU count as nproc. Without them slurmd assumes one core per socket and logs
# that it reconfigured the node.
topology=""
probe="$(slurmd -C 2>/dev/null | head -n 1 || true)"
if [[ "$probe" =~ CPUs=([0-9]+).*(SocketsPerBoard=[0-9]+\ CoresPerSocket=[0-9]+\ ThreadsPerCore=[0-9]+) ]] && [ "${BASH_REMATCH[1]}" = "$cpus" ]; then
  topology=" ${BASH_REMATCH[2]}"
fi

mkdir -p "$CONF_DIR" "$LOG_DIR" "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR"
chown -R slurm:slurm "$LOG_DIR" "$STATE_DIR" "$SPOOL_DIR" "$RUN_DIR"

cat >"$CONF.tmp" <<CONF
$MARKER for a single-node test cluster.
ClusterName=mixwright
# Daemons talk over loopback, so the host name needs no DNS or /etc/hosts entry.
SlurmctldHost=$host(127.0.0.1)
SlurmUser=slurm
SlurmctldPort=6817
SlurmdPort=6818
AuthType=auth/munge
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldPidFile=$RUN_DIR/slurmctld.pid
SlurmdPidFile=$RUN_DIR/slurmd.pid
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info

# No systemd and no delegated cgroup tree in this container: track job processes
# through /proc and skip task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none

# No slurmdbd: keep no accounting database and log finished jobs to a text file.
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log

SchedulerType=sched/backfill
# Schedule queued batch jobs right after a job ends or is submitted. The default
# batch_sched_delay of 3 s adds up to 3 s before every array task and dependent job.
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$def_mem_per_cpu
# Finished jobs stay visible to squeue and scontrol for this many seconds.
MinJobAge=300
ReturnToService=2
SlurmdTimeout=60
InactiveLimit=0
KillWait=5
MpiDefault=none

NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus$topology RealMemory=$real_mem_mb State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:$oversubscribe
CONF
mv "$CONF.tmp" "$CONF"

# --- munge --------------------------------------------------------------------
if [ ! -s /etc/munge/munge.key ]; then
  if command -v mungekey >/dev/null; then
    mungekey --create --keyfile=/etc/munge/munge.key
  else
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
  fi
fi
chown munge:munge /etc/munge/munge.key
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! running munged; then
  runuser -u munge -- /usr/sbin/munged || fail "munged failed to start"
fi
for _ in $(seq 1 50); do
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
  sleep 0.1
done
munge -n | unmunge >/dev/null || fail "munge round trip failed (munge -n | unmunge)"

# --- slurm daemons ------------------------------------------------------------------
# Whether a process is alive; a zombie waiting for its parent to reap it is not.
alive() {
  ps -p "$1" -o stat= 2>/dev/null | grep -qv '^Z'
}

stop_daemon() {
  local name="$1" pidfile="$2" pid
  if [ -f "$pidfile" ]; then
    pid="$(cat "$pidfile")"
    if alive "$pid"; then
      kill "$pid"
      for _ in $(seq 1 100); do
        alive "$pid" || break
        sleep 0.1
      done
    fi
  fi
  rm -f "$pidfile"
  if running "$name"; then fail "$name is running but not from $pidfile; stop it first"; fi
}
stop_daemon slurmd "$RUN_DIR/slurmd.pid"
stop_daemon slurmctld "$RUN_DIR/slurmctld.pid"

/usr/sbin/slurmctld || fail "slurmctld failed to start"
/usr/sbin/slurmd || fail "slurmd failed to start"

# --- wait for an idle node -------------------------------------------------------------
deadline=$(( $(date +%s) + WAIT_S ))
state=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  state="$(node_state)"
  case "$state" in
    idle | mix | alloc)
      echo "start-cluster: node $host is $state ($cpus CPUs, $real_mem_mb MB)"
      exit 0
      ;;
    down | drain | drng | fail)
      # A node left down by an earlier run of slurmctld comes back once resumed.
      scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
      ;;
  esac
  sleep 0.5
done
fail "node $host did not become idle within ${WAIT_S}s (last state: '${state:-unknown}'; sinfo: $(sinfo --noheader 2>&1 | head -n 3))"
