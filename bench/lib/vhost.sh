# shellcheck shell=bash
# Shared runner for the vhost-user loopback cases vhost_v2h, vhost_h2v and vhost_rt
# (bench/cases/<name>.sh; dpdk-peer.md §5c). Sourced by the case files, after bench/lib/common.sh.
#
# One run = two testpmd processes joined by a vhost-user socket:
#   net_vhost process (the vhost-user server, started first):
#     -l 0-1 --main-lcore 0 --vdev net_vhost0,iface=SOCK,queues=1            (forwards on lcore 1)
#   virtio_user process (the frontend, started once SOCK exists):
#     -l 0-1 --main-lcore 1 --vdev virtio_user0,path=SOCK,queues=1,queue_size=256 (forwards on lcore 0)
# both with -- --forward-mode=M --auto-start --stats-period 1 --total-num-mbufs=16384 --rxd=256
# --txd=256 --burst=32 --txpkts=64. DPDK processes add --no-pci, the memory flags of
# hlb_dpdk_mem_args (--no-huge -m 256, or --in-memory on hugepages; the virtio_user process then also
# --single-file-segments, dpdk-peer.md §3) and their own --file-prefix; Hyperlane processes add
# --summary-json (they take the memory mode from the hugepage reservation themselves, and make their
# pool memfd-backed when a virtio_user port exists so it can be shared with the backend).
#
# Each direction runs in four pairings ("sides" of the run; bench/run.sh runs them interleaved):
#   hyperlane  Hyperlane virtio_user <-> Hyperlane net_vhost   (the headline, vs dpdk)
#   dpdk       DPDK virtio_user      <-> DPDK net_vhost
#   hl_virtio  Hyperlane virtio_user <-> DPDK net_vhost
#   hl_vhost   DPDK virtio_user      <-> Hyperlane net_vhost
#
# Timing: the receiving process's stdout is watched until its Rx-pps shows traffic; then both run
# HLB_DURATION s more; then both outputs are cut (the window ends: every sample used was taken
# while both processes ran) and the processes are stopped with SIGTERM, the virtio_user client
# first, then the net_vhost server (clean stops; Hyperlane writes its summary JSON). Figure: median
# of the receiver's Rx-pps samples once traffic flows (leading idle samples and the first active,
# partial one skipped; benchlib.py active_samples); the sender's Tx-pps the same way (cross-check).
# Socket in $HLB_TMP/vh-<case>-<side>-<run>/ (removed after the run), one --file-prefix per DPDK
# process (its /var/run/dpdk dir removed after the run); both processes are registered with
# common.sh, so an interrupt or a failure kills them.

# shellcheck disable=SC2034  # the case files test it to source this file once
VH_SIDES=(hyperlane dpdk hl_virtio hl_vhost)

# vh_pairings: the pairings lines of bench/run.sh (<case>_pairings): SIDE TAB TAG TAB LABEL.
vh_pairings() {
  printf '%s\t%s\t%s\n' \
    hyperlane "hl-virtio/hl-vhost" "Hyperlane virtio_user <-> Hyperlane net_vhost" \
    dpdk "dpdk-virtio/dpdk-vhost" "DPDK virtio_user <-> DPDK net_vhost" \
    hl_virtio "hl-virtio/dpdk-vhost" "Hyperlane virtio_user <-> DPDK net_vhost" \
    hl_vhost "dpdk-virtio/hl-vhost" "DPDK virtio_user <-> Hyperlane net_vhost"
}

# vh_conditions CASE: the conditions line of the case.
vh_conditions() {
  local what
  case $1 in
    vhost_v2h) what="virtio_user txonly -> net_vhost rxonly; figure: net_vhost Rx-pps" ;;
    vhost_h2v) what="net_vhost txonly -> virtio_user rxonly; figure: virtio_user Rx-pps" ;;
    vhost_rt) what="virtio_user flowgen -> net_vhost macswap -> virtio_user; figure: virtio_user Rx-pps (packets returned)" ;;
  esac
  echo "$what; 2 processes, -l 0-1 each: net_vhost (server) --main-lcore 0, forwards on lcore 1; virtio_user --main-lcore 1, forwards on lcore 0; 1 queue pair, queue_size=256, --rxd=256 --txd=256, burst 32, 64 B packets, 16384 mbufs per process; DPDK --no-huge -m 256, or with hugepages --in-memory (+ --single-file-segments on virtio_user); ${HLB_DURATION} s of traffic, the first active sample skipped; headline HL<->HL / DPDK<->DPDK"
}

# vh_first_error FILE...: the first line that looks like an error (else the first non-empty line).
vh_first_error() {
  # testpmd's own stats lines (promiscuous mode, RX-errors/TX-errors) are not errors
  hlb_first_error 'error|exception|fail|cannot|unable|no such|unhandled' 'promiscuous mode|[RT]X-errors' "$@"
}

# vh_sleep S: sleeps S seconds in a way a signal to the suite interrupts at once (its trap runs
# during `wait`; a foreground sleep would delay it, or make bash drop a SIGINT sent to it alone).
vh_sleep() {
  sleep "$1" &
  local p=$!
  wait "$p" 2>/dev/null || true
}

# vh_cpu_snapshot PID...: "<busy jiffies of all CPUs> <all jiffies> <jiffies of the processes under
# the given timeout PIDs>" (from /proc/stat and /proc/<pid>/stat utime+stime, every thread).
vh_cpu_snapshot() {
  local busy all mine=0 p k f u n s i w q sq st
  local -a fs
  read -r _ u n s i w q sq st _ </proc/stat
  busy=$((u + n + s + q + sq + st))
  all=$((busy + i + w))
  for p in "$@"; do
    [[ -n "$p" ]] || continue
    for k in $(pgrep -P "$p" 2>/dev/null); do
      f=$(sed 's/^.*) //' "/proc/$k/stat" 2>/dev/null) || continue
      # after "pid (comm) ": field 3 is state, so utime and stime are words 12 and 13
      read -r -a fs <<<"$f"
      mine=$((mine + fs[11] + fs[12]))
    done
  done
  echo "$busy $all $mine"
}

# vh_other_cpu BEFORE AFTER: percent of one CPU that other processes (not the two testpmds) used
# between two vh_cpu_snapshot lines.
vh_other_cpu() {
  local b0 a0 m0 b1 a1 m1 ncpu
  read -r b0 a0 m0 <<<"$1"
  read -r b1 a1 m1 <<<"$2"
  ncpu=$(nproc)
  (((a1 - a0) > 0)) || { echo 0; return; }
  local other=$(((b1 - b0) - (m1 - m0)))
  ((other < 0)) && other=0
  echo $((100 * other * ncpu / (a1 - a0)))
}

# vh_has_traffic FILE: the stats in FILE show a non-zero Rx-pps.
vh_has_traffic() {
  [[ -s "$1" ]] && grep -qE '^[[:space:]]*Rx-pps:[[:space:]]+[1-9]' "$1"
}

# vh_cmd ROLE IMPL MODE SOCK DIR: the command line of one process in VH_CMD (ROLE vhost|virtio,
# IMPL hyperlane|dpdk), its memory mode in VH_MEM (DPDK; Hyperlane's comes from its summary JSON).
vh_cmd() {
  local role=$1 impl=$2 mode=$3 sock=$4 dir=$5 main vdev
  if [[ $role == vhost ]]; then
    main=0
    vdev="net_vhost0,iface=$sock,queues=1"
  else
    main=1
    vdev="virtio_user0,path=$sock,queues=1,queue_size=256"
  fi
  local tp=(--forward-mode="$mode" --auto-start --stats-period 1 --total-num-mbufs=16384
    --rxd=256 --txd=256 --burst=32 --txpkts=64)
  if [[ $impl == hyperlane ]]; then
    VH_CMD=("${HLB_HYPERLANE[@]}" testpmd -l 0-1 --main-lcore "$main" --vdev "$vdev" --
      "${tp[@]}" --summary-json "$dir/$role.summary.json")
    VH_MEM=""
  else
    hlb_dpdk_mem_args 256
    local mem=("${HLB_DPDK_MEM_ARGS[@]}")
    VH_MEM=$HLB_DPDK_MEMMODE
    if [[ $role == virtio && "${mem[0]}" == --in-memory ]]; then
      mem+=(--single-file-segments)
      VH_MEM+=" + --single-file-segments"
    fi
    hlb_dpdk_prefix "vh_$role"
    VH_CMD=(dpdk-testpmd -l 0-1 --main-lcore "$main" --no-pci "${mem[@]}" --file-prefix "$HLB_PREFIX"
      --vdev "$vdev" -- "${tp[@]}")
  fi
}

# vh_run CASE SIDE RUN DIR: one run of CASE in pairing SIDE; writes DIR/result.json.
vh_run() {
  local case=$1 side=$2 run=$3 dir=$4
  local vhost_mode virtio_mode receiver
  case $case in
    vhost_v2h) virtio_mode=txonly vhost_mode=rxonly receiver=vhost ;;
    vhost_h2v) virtio_mode=rxonly vhost_mode=txonly receiver=virtio ;;
    vhost_rt) virtio_mode=flowgen vhost_mode=macswap receiver=virtio ;;
    *) hlb_result failed "$case" "$side" "$run" "$dir" "vh_run: unknown case $case"; return 1 ;;
  esac
  local virtio_impl vhost_impl
  case $side in
    hyperlane) virtio_impl=hyperlane vhost_impl=hyperlane ;;
    dpdk) virtio_impl=dpdk vhost_impl=dpdk ;;
    hl_virtio) virtio_impl=hyperlane vhost_impl=dpdk ;;
    hl_vhost) virtio_impl=dpdk vhost_impl=hyperlane ;;
    *) hlb_result failed "$case" "$side" "$run" "$dir" "vh_run: unknown side $side"; return 1 ;;
  esac

  # can this pairing run at all?
  if [[ ($virtio_impl == dpdk || $vhost_impl == dpdk) ]] && ! command -v dpdk-testpmd >/dev/null; then
    hlb_result unavailable "$case" "$side" "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
    return 3
  fi
  if [[ ($virtio_impl == hyperlane || $vhost_impl == hyperlane) && ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed "$case" "$side" "$run" "$dir" "Hyperlane side failed: CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi

  local sockdir=$HLB_TMP/vh-$case-$side-$run
  rm -rf -- "$sockdir"
  mkdir -p "$sockdir"
  local sock=$sockdir/vhost.sock
  local fail="" vh_pid="" vu_pid="" rc_vh=0 rc_vu=0 i cpu0="" cpu1=""
  local label_vh=Hyperlane label_vu=Hyperlane
  [[ $vhost_impl == dpdk ]] && label_vh=DPDK
  [[ $virtio_impl == dpdk ]] && label_vu=DPDK
  local limit=$((HLB_DURATION + 150))
  : >"$dir/commands.txt"

  # 1. the net_vhost process (server)
  vh_cmd vhost "$vhost_impl" "$vhost_mode" "$sock" "$dir"
  local vh_mem=$VH_MEM
  printf 'net_vhost (%s): %s\n' "$label_vh" "${VH_CMD[*]}" >>"$dir/commands.txt"
  hlb_spawn "$limit" "$dir/vhost.stdout.txt" "$dir/vhost.stderr.txt" "${VH_CMD[@]}"
  vh_pid=$HLB_BG_PID
  for ((i = 0; i < 150; i++)); do
    [[ -S "$sock" ]] && break
    hlb_alive "$vh_pid" || break
    vh_sleep 0.2
  done
  if [[ ! -S "$sock" ]]; then
    fail="$label_vh net_vhost never created $sock: $(vh_first_error "$dir/vhost.stderr.txt" "$dir/vhost.stdout.txt")"
  else
    # 2. the virtio_user process (client)
    vh_cmd virtio "$virtio_impl" "$virtio_mode" "$sock" "$dir"
    local vu_mem=$VH_MEM
    printf 'virtio_user (%s): %s\n' "$label_vu" "${VH_CMD[*]}" >>"$dir/commands.txt"
    hlb_spawn "$limit" "$dir/virtio.stdout.txt" "$dir/virtio.stderr.txt" "${VH_CMD[@]}"
    vu_pid=$HLB_BG_PID
    # 3. wait for traffic at the receiver
    local rxout=$dir/$receiver.stdout.txt flowing=0
    for ((i = 0; i < 300; i++)); do
      if vh_has_traffic "$rxout"; then flowing=1; break; fi
      if ! hlb_alive "$vh_pid" || ! hlb_alive "$vu_pid"; then break; fi
      vh_sleep 0.2
    done
    if [[ $flowing == 0 ]]; then
      local who="" logs=()
      if ! hlb_alive "$vh_pid"; then
        who+="the $label_vh net_vhost process ended; "
        logs+=("$dir/vhost.stderr.txt" "$dir/vhost.stdout.txt")
      fi
      if ! hlb_alive "$vu_pid"; then
        who+="the $label_vu virtio_user process ended; "
        logs=("$dir/virtio.stderr.txt" "$dir/virtio.stdout.txt" "${logs[@]}")
      fi
      logs+=("$dir/virtio.stderr.txt" "$dir/vhost.stderr.txt" "$dir/virtio.stdout.txt" "$dir/vhost.stdout.txt")
      fail="no traffic reached the $receiver side within 60 s (${who}first error: $(vh_first_error "${logs[@]}"))"
    else
      cpu0=$(vh_cpu_snapshot "$vh_pid" "$vu_pid")
      vh_sleep "$HLB_DURATION.5"
      cpu1=$(vh_cpu_snapshot "$vh_pid" "$vu_pid")
    fi
  fi

  # 4. the window ends now: both outputs are cut here (at the last complete line), so every sample
  # used covers time when both processes ran; then the virtio_user process (the client) is stopped
  # first, as a guest would disconnect, and the net_vhost server after it (stopping the server
  # first would kill DPDK's virtio_user with SIGPIPE).
  local role size_vh=0 size_vu=0
  [[ -f "$dir/vhost.stdout.txt" ]] && size_vh=$(stat -c %s "$dir/vhost.stdout.txt")
  [[ -f "$dir/virtio.stdout.txt" ]] && size_vu=$(stat -c %s "$dir/virtio.stdout.txt")
  for role in vhost virtio; do
    if [[ -f "$dir/$role.stdout.txt" ]]; then
      local size=$size_vh
      [[ $role == virtio ]] && size=$size_vu
      python3 "$HLB_LIB/benchlib.py" cut "$dir/$role.stdout.txt" "$size" "$dir/$role.window.txt"
    fi
  done
  [[ -n "$vu_pid" ]] && { hlb_stop_proc "$vu_pid" 20 || rc_vu=$?; }
  [[ -n "$vh_pid" ]] && { hlb_stop_proc "$vh_pid" 20 || rc_vh=$?; }
  hlb_remove_prefix_dirs
  rm -rf -- "$sockdir"

  # 5. parse
  local vh_out=$dir/vhost.window.txt vu_out=$dir/virtio.window.txt
  [[ -f "$vh_out" ]] || vh_out=/dev/null
  [[ -f "$vu_out" ]] || vu_out=/dev/null
  local vh_sum=- vu_sum=-
  [[ -s "$dir/vhost.summary.json" ]] && vh_sum=$dir/vhost.summary.json
  [[ -s "$dir/virtio.summary.json" ]] && vu_sum=$dir/virtio.summary.json
  python3 "$HLB_LIB/benchlib.py" vhost "$case" "$side" "$run" "$vh_out" "$vu_out" "$vh_sum" "$vu_sum" \
    "$vhost_impl" "$virtio_impl" "${vh_mem:-}" "${vu_mem:-}" >"$dir/result.json"
  local ok
  ok=$(python3 -c 'import json,sys; print(1 if json.load(open(sys.argv[1])).get("ok") else 0)' "$dir/result.json" 2>/dev/null || echo 0)
  if [[ $ok != 1 ]]; then
    [[ -n "$fail" ]] || fail="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$dir/result.json" 2>/dev/null); first error: $(vh_first_error "$dir/virtio.stderr.txt" "$dir/vhost.stderr.txt")"
    hlb_result_set "$dir" error "$fail"
    hlb_log "$case/$side run $run: no figure: $fail"
  elif [[ -n "$fail" ]]; then
    hlb_result_note "$dir" "$fail"
  fi
  local st code impl
  for st in "vhost:$rc_vh:$vhost_impl" "virtio:$rc_vu:$virtio_impl"; do
    IFS=: read -r role code impl <<<"$st"
    # SIGTERM ends both cleanly: DPDK testpmd exits 0 then, hyperlane 0 (143 if it had to be killed)
    if [[ $code != 0 && $code != 124 && $code != 143 ]]; then
      hlb_result_note "$dir" "the $impl $role process exited with status $code"
    fi
  done
  if [[ -n "$cpu0" && -n "$cpu1" ]]; then
    # CPU that other processes took from the two testpmds during the window (2 vCPUs, both busy
    # polling): a disturbed run shows here
    local other
    other=$(vh_other_cpu "$cpu0" "$cpu1")
    hlb_result_set "$dir" otherCpuPercent "$other"
    if ((other >= 15)); then
      hlb_result_note "$dir" "other processes used ${other}% of a CPU during the measured window (the two testpmds poll both vCPUs: figures disturbed)"
    fi
  fi
  hlb_result_set "$dir" vhostExitStatus "$rc_vh"
  hlb_result_set "$dir" virtioExitStatus "$rc_vu"
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
  return 0
}
