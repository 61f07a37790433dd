# shellcheck shell=bash
# Shared helpers for bench/run.sh and the case files in bench/cases/. Sourced, not run.
#
# What it owns (so that nothing is left behind, whatever happens):
#   - child processes started through hlb_run (killed on exit, error, Ctrl-C, SIGTERM);
#   - the hugepage reservation made by hlb_hugepages_reserve (the previous nr_hugepages is
#     ALWAYS written back on exit);
#   - DPDK runtime dirs /var/run/dpdk/<prefix> of prefixes made by hlb_dpdk_prefix;
#   - the temporary work dir $HLB_TMP;
#   - network namespaces made by hlb_netns_add (processes still in them are killed, then the
#     namespace is deleted, and with it every veth and tap in it).

HLB_PIDS=()
HLB_PREFIXES=()
HLB_HP_SAVED=""
HLB_TMP=""
HLB_CLEANED=0
HLB_NETNS=()

hlb_log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
hlb_die() { hlb_log "error: $*"; exit 1; }

# hlb_init_tmp: private temp dir for this suite run (removed on exit).
hlb_init_tmp() {
  HLB_TMP=$(mktemp -d /tmp/hlbench.XXXXXX)
}

# hlb_first_error MATCH SKIP FILE...: the first line of the FILEs (ANSI colours stripped) that matches
# the case-insensitive ERE MATCH, ignoring lines that match the ERE SKIP (none when SKIP is empty); else the
# first non-empty line; at most 300 bytes, or "no output".
hlb_first_error() {
  local match=$1 skip=$2 f line
  shift 2
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    line=$(sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$f" | { if [[ -n $skip ]]; then grep -vE "$skip"; else cat; fi; } |
      grep -m1 -iE "$match" || true)
    [[ -n "$line" ]] && { printf '%s' "$line" | head -c 300; return 0; }
  done
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    line=$(grep -m1 -v '^[[:space:]]*$' "$f" || true)
    [[ -n "$line" ]] && { printf '%s' "$line" | head -c 300; return 0; }
  done
  printf 'no output'
}

# hlb_dpdk_prefix NAME: sets HLB_PREFIX to a unique --file-prefix (hlb_NAME_<pid>_<n>) that cleanup
# will remove. Not for $(...): the registration must happen in this shell.
HLB_PREFIX_SEQ=0
HLB_PREFIX=""
hlb_dpdk_prefix() {
  HLB_PREFIX_SEQ=$((HLB_PREFIX_SEQ + 1))
  HLB_PREFIX="hlb_${1}_$$_${HLB_PREFIX_SEQ}"
  HLB_PREFIXES+=("$HLB_PREFIX")
}

hlb_remove_prefix_dirs() {
  local p
  for p in "${HLB_PREFIXES[@]}"; do
    [[ -n "$p" && -d "/var/run/dpdk/$p" ]] && rm -rf -- "/var/run/dpdk/$p"
  done
  return 0
}

# hlb_run TIMEOUT STDOUT STDERR CMD...: runs CMD under `timeout -k 5 TIMEOUT` in the background and
# waits for it, so a signal to the suite reaches the trap at once and the trap can kill the child.
# Returns CMD's exit status (124 when timeout stopped it, which is how testpmd runs are ended).
hlb_run() {
  local limit=$1 out=$2 err=$3
  shift 3
  timeout -k 5 "$limit" "$@" </dev/null >"$out" 2>"$err" &
  local pid=$!
  HLB_PIDS+=("$pid")
  local rc=0
  wait "$pid" || rc=$?
  hlb_reap "$pid"
  return "$rc"
}

hlb_kill_children() {
  local p
  for p in "${HLB_PIDS[@]}"; do
    # timeout forwards TERM to its child (it runs it in its own process group); helper
    # subshells get their children (a sleep) ended too.
    pkill -TERM -P "$p" 2>/dev/null || true
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${HLB_PIDS[@]}"; do
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$p" 2>/dev/null || break
      sleep 0.5
    done
    pkill -KILL -P "$p" 2>/dev/null || true
    kill -KILL "$p" 2>/dev/null || true
  done
  HLB_PIDS=()
}

# hlb_sample_thp PATTERN DELAY OUT: in the background, after DELAY seconds, writes to OUT the
# AnonHugePages (kB of anonymous memory on transparent 2 MiB pages) of the dotnet process whose
# command line matches PATTERN. HLB_BG_PID is the sampler (end it with hlb_stop_bg). Tells
# whether Hyperlane's MADV_HUGEPAGE memory really got THP.
hlb_sample_thp() {
  local pattern=$1 delay=$2 out=$3
  (
    sleep "$delay"
    for pid in $(pgrep -f -- "$pattern"); do
      [[ "$(ps -o comm= -p "$pid" 2>/dev/null)" == dotnet ]] || continue
      awk '/^AnonHugePages:/ {print $2}' "/proc/$pid/smaps_rollup" 2>/dev/null >"$out"
      break
    done
  ) &
  HLB_BG_PID=$!
  HLB_PIDS+=("$HLB_BG_PID")
}

# hlb_stop_bg PID: ends a background helper of ours if it still runs, then reaps it.
hlb_stop_bg() {
  pkill -TERM -P "$1" 2>/dev/null || true
  kill -TERM "$1" 2>/dev/null || true
  hlb_reap "$1"
}

# hlb_reap PID: waits for a background helper and forgets it (so cleanup never signals a PID
# that may have been reused).
hlb_reap() {
  local pid=$1 keep=() p
  wait "$pid" 2>/dev/null || true
  for p in "${HLB_PIDS[@]}"; do [[ "$p" != "$pid" ]] && keep+=("$p"); done
  HLB_PIDS=("${keep[@]}")
}

# hlb_spawn TIMEOUT STDOUT STDERR CMD...: like hlb_run, but leaves CMD running in the background.
# HLB_BG_PID is the PID of its `timeout` (end it with hlb_stop_proc; cleanup ends it otherwise).
hlb_spawn() {
  local limit=$1 out=$2 err=$3
  shift 3
  timeout -k 5 "$limit" "$@" </dev/null >"$out" 2>"$err" &
  HLB_BG_PID=$!
  HLB_PIDS+=("$HLB_BG_PID")
}

# hlb_alive PID: true while PID runs (not a zombie).
hlb_alive() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ -n "$st" && "$st" != Z* ]]
}

# hlb_stop_proc PID [GRACE]: stops a process started by hlb_spawn: one SIGTERM to the command
# (testpmd and hyperlane then stop cleanly, with final stats); SIGKILL after GRACE seconds
# (default 10). Returns the command's exit status.
# The signal goes to the command, not to its `timeout`: GNU timeout passes a signal on twice
# (to the command and to its process group), and hyperlane treats a second SIGTERM during
# shutdown as "exit at once" (no final stats, no --summary-json; exit 143).
hlb_stop_proc() {
  local pid=$1 grace=${2:-10} i rc=0 kids
  kids=$(pgrep -P "$pid" 2>/dev/null || true)
  if [[ -n "$kids" ]]; then
    # shellcheck disable=SC2086  # one PID per word
    kill -TERM $kids 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
  fi
  for ((i = 0; i < grace * 5; i++)); do
    hlb_alive "$pid" || break
    sleep 0.2
  done
  if hlb_alive "$pid"; then
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  hlb_reap "$pid"
  return "$rc"
}

# --- network namespaces -----------------------------------------------------------------------

# hlb_netns_add NAME: creates netns NAME (registered for cleanup), brings its lo up and disables
# IPv6 in it (no link-local addresses, no router solicitations on the test links). Never touches
# the root namespace's interfaces.
hlb_netns_add() {
  local ns=$1
  ip netns add "$ns" || return 1
  HLB_NETNS+=("$ns")
  ip -n "$ns" link set lo up &&
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# hlb_netns_del NAME: kills what still runs in NAME (TERM, then KILL after 5 s), then deletes
# it. Only namespaces made by hlb_netns_add are passed here, so every process in them is ours.
hlb_netns_del() {
  local ns=$1 p i keep=() n
  if ip netns list 2>/dev/null | grep -qE "^${ns}( |\$)"; then
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
    for ((i = 0; i < 25; i++)); do
      [[ -z "$(ip netns pids "$ns" 2>/dev/null)" ]] && break
      sleep 0.2
    done
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || hlb_log "warning: could not delete netns $ns"
  fi
  for n in "${HLB_NETNS[@]}"; do [[ "$n" != "$ns" ]] && keep+=("$n"); done
  HLB_NETNS=("${keep[@]}")
  return 0
}

# hlb_netns_sampler NS OUT [INTERVAL]: in the background, every INTERVAL s (default 0.5) appends to
# OUT one line "<epoch s before> <epoch s after> <JSON of ip -n NS -s -j link show>" (every link of
# NS with its counters). The dump can block (it once took 6 s, during tap_rx), so the reader
# drops samples whose two times are far apart. HLB_BG_PID is the sampler (end it with hlb_stop_bg).
hlb_netns_sampler() {
  local ns=$1 out=$2 every=${3:-0.5}
  (
    while :; do
      t0=$EPOCHREALTIME
      js=$(ip -n "$ns" -s -j link show 2>/dev/null) || js='[]'
      printf '%s %s %s\n' "$t0" "$EPOCHREALTIME" "${js:-[]}"
      sleep "$every"
    done
  ) >>"$out" 2>/dev/null &
  HLB_BG_PID=$!
  HLB_PIDS+=("$HLB_BG_PID")
}

# --- hugepages --------------------------------------------------------------------------------

hlb_hugepages_total() { cat /proc/sys/vm/nr_hugepages; }
hlb_hugepages_free() { cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0; }

# hlb_hugepages_reserve N: reserve N 2 MiB pages for this run; the old value comes back on exit.
hlb_hugepages_reserve() {
  local want=$1
  [[ -w /proc/sys/vm/nr_hugepages ]] || hlb_die "--hugepages needs root (cannot write /proc/sys/vm/nr_hugepages)"
  HLB_HP_SAVED=$(hlb_hugepages_total)
  echo "$want" >/proc/sys/vm/nr_hugepages
  local got
  got=$(hlb_hugepages_total)
  hlb_log "hugepages: reserved $got x 2 MiB (asked $want, was $HLB_HP_SAVED; restored on exit)"
  [[ "$got" -ge "$want" ]] || hlb_log "warning: only $got of $want hugepages could be reserved"
}

hlb_hugepages_restore() {
  if [[ -n "$HLB_HP_SAVED" ]]; then
    echo "$HLB_HP_SAVED" >/proc/sys/vm/nr_hugepages 2>/dev/null || true
    hlb_log "hugepages: restored nr_hugepages=$(hlb_hugepages_total) (was $HLB_HP_SAVED before the run)"
    HLB_HP_SAVED=""
  fi
}

# hlb_dpdk_mem_args MB: EAL memory flags for the current memory mode (hugepages when any are
# reserved, else --no-huge -m MB) in the array HLB_DPDK_MEM_ARGS, and HLB_DPDK_MEMMODE, a human
# string for the report.
# shellcheck disable=SC2034  # both are read by the callers
hlb_dpdk_mem_args() {
  local mb=$1
  if [[ "$(hlb_hugepages_total)" -gt 0 ]]; then
    HLB_DPDK_MEMMODE="hugepages 2 MiB (--in-memory)"
    HLB_DPDK_MEM_ARGS=(--in-memory)
  else
    HLB_DPDK_MEMMODE="4 KiB pages (--no-huge -m $mb)"
    HLB_DPDK_MEM_ARGS=(--no-huge -m "$mb")
  fi
}

# --- exit -------------------------------------------------------------------------------------

hlb_cleanup() {
  [[ "$HLB_CLEANED" == 1 ]] && return 0
  HLB_CLEANED=1
  hlb_kill_children
  local ns
  for ns in "${HLB_NETNS[@]}"; do hlb_netns_del "$ns"; done
  hlb_remove_prefix_dirs
  hlb_hugepages_restore
  [[ -n "$HLB_TMP" && -d "$HLB_TMP" && -z "${HLB_KEEP_TMP:-}" ]] && rm -rf -- "$HLB_TMP"
  return 0
}

hlb_install_traps() {
  trap 'rc=$?; hlb_cleanup; exit $rc' EXIT
  trap 'hlb_log "interrupted"; hlb_cleanup; exit 130' INT
  trap 'hlb_log "terminated"; hlb_cleanup; exit 143' TERM
}

# --- load -------------------------------------------------------------------------------------

# hlb_load_snapshot: one line describing other load on the machine, for the report: load average,
# how busy the CPUs were over one second (from /proc/stat), and the processes then using the most
# CPU (lifetime average, so long-lived ones look calmer than they are).
hlb_load_snapshot() {
  local la busy top
  la=$(cut -d' ' -f1-3 /proc/loadavg)
  busy=$(
    read -r _ u1 n1 s1 i1 w1 q1 sq1 st1 _ </proc/stat
    sleep 1
    read -r _ u2 n2 s2 i2 w2 q2 sq2 st2 _ </proc/stat
    t=$(((u2 + n2 + s2 + i2 + w2 + q2 + sq2 + st2) - (u1 + n1 + s1 + i1 + w1 + q1 + sq1 + st1)))
    b=$((t - (i2 - i1) - (w2 - w1)))
    ((t > 0)) && echo "$((100 * b / t))%" || echo "?"
  )
  top=$(ps -eo pcpu=,comm= --sort=-pcpu 2>/dev/null | awk '$1 > 10 {printf "%s(%s%%) ", $2, $1}' | head -c 200)
  printf 'loadavg %s; CPUs busy %s over 1 s; top: %s' "$la" "$busy" "${top:-none}"
}

# --- case results -----------------------------------------------------------------------------

# hlb_result failed|unavailable CASE SIDE RUN DIR MESSAGE...: writes DIR/result.json saying so.
hlb_result() {
  local kind=$1 case=$2 side=$3 run=$4 dir=$5
  shift 5
  python3 "$HLB_LIB/benchlib.py" "$kind" "$case" "$side" "$run" "$*" >"$dir/result.json"
}

# hlb_result_note DIR MESSAGE: appends a note to DIR/result.json.
hlb_result_note() { python3 "$HLB_LIB/benchlib.py" edit "$1/result.json" note "$2"; }

# hlb_result_set DIR KEY VALUE: sets a top-level string field of DIR/result.json.
hlb_result_set() { python3 "$HLB_LIB/benchlib.py" edit "$1/result.json" set "$2" "$3"; }

# hlb_testpmd_hyperlane CASE RUN DIR VDEVS_ARRAY FWD_ARRAY
# One Hyperlane run of a single-process testpmd case (the same vdevs on both sides, figure = Rx Mpps
# summed over the ports, benchlib's null-io-case parse): testpmd -l 0-1 VDEVS -- FWD --duration S
# --summary-json, THP sampled while it runs. VDEVS_ARRAY and FWD_ARRAY are names of bash arrays.
hlb_testpmd_hyperlane() {
  local case=$1 run=$2 dir=$3
  local -n _hlb_vdevs=$4 _hlb_fwd=$5
  if [[ ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed "$case" hyperlane "$run" "$dir" "Hyperlane CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi
  local rc=0
  hlb_sample_thp "$dir/summary.json" $(((HLB_DURATION + 1) / 2 + 1)) "$dir/thp_kb.txt"
  local sampler=$HLB_BG_PID
  printf 'port: %s\n' "${HLB_HYPERLANE[*]} testpmd -l 0-1 ${_hlb_vdevs[*]} -- ${_hlb_fwd[*]} --duration $HLB_DURATION --summary-json $dir/summary.json" >"$dir/commands.txt"
  hlb_run $((HLB_DURATION + 60)) "$dir/stdout.txt" "$dir/stderr.txt" \
    "${HLB_HYPERLANE[@]}" testpmd -l 0-1 "${_hlb_vdevs[@]}" -- \
    "${_hlb_fwd[@]}" --duration "$HLB_DURATION" --summary-json "$dir/summary.json" || rc=$?
  hlb_stop_bg "$sampler"
  if [[ $rc != 0 ]]; then
    hlb_log "$case/hyperlane run $run: exit $rc (stderr: $(tail -c 300 "$dir/stderr.txt" | tr '\n' ' '))"
  fi
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" null-io-case "$case" hyperlane "$run" "$dir/stdout.txt" "${summary[@]}" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "hyperlane exited with status $rc"
  if [[ -s "$dir/thp_kb.txt" ]]; then
    hlb_result_set "$dir" thpAnonHugePagesKiB "$(cat "$dir/thp_kb.txt")"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}

# hlb_testpmd_dpdk CASE RUN DIR PREFIX_TAG VDEVS_ARRAY FWD_ARRAY
# The DPDK side of the same case: dpdk-testpmd with the same vdevs and forwarding flags, memory per
# hlb_dpdk_mem_args, a unique file prefix, ended by SIGTERM after the duration (rc 124 is a clean stop).
hlb_testpmd_dpdk() {
  local case=$1 run=$2 dir=$3 tag=$4
  local -n _hlb_vdevs=$5 _hlb_fwd=$6
  if ! command -v dpdk-testpmd >/dev/null; then
    hlb_result unavailable "$case" dpdk "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
    return 3
  fi
  hlb_dpdk_mem_args 256
  hlb_dpdk_prefix "$tag"
  local prefix=$HLB_PREFIX rc=0
  printf 'port: %s\n' "dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci ${HLB_DPDK_MEM_ARGS[*]} --file-prefix $prefix ${_hlb_vdevs[*]} -- ${_hlb_fwd[*]} (ended by SIGTERM after $((HLB_DURATION + 2)) s)" >"$dir/commands.txt"
  # testpmd prints a stats sample about every 2 s; timeout ends it with SIGTERM (clean stop, rc 124).
  hlb_run $((HLB_DURATION + 2)) "$dir/stdout.txt" "$dir/stderr.txt" \
    dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" \
    "${_hlb_vdevs[@]}" -- "${_hlb_fwd[@]}" || rc=$?
  hlb_remove_prefix_dirs
  python3 "$HLB_LIB/benchlib.py" null-io-case "$case" dpdk "$run" "$dir/stdout.txt" >"$dir/result.json"
  hlb_result_set "$dir" memory "$HLB_DPDK_MEMMODE"
  if [[ $rc != 0 && $rc != 124 ]]; then
    hlb_result_note "$dir" "dpdk-testpmd exited with status $rc"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}
