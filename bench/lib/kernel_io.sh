# shellcheck shell=bash
# Shared runner for the kernel-bound cases tap_tx, tap_rx, af_packet_tx and af_packet_rx
# (bench/cases/<name>.sh). Sourced by the case files, after bench/lib/common.sh.
#
# Every run (one side, one run) builds its own setup and removes it, the same for both sides:
#   - a network namespace hlb-<case>-<suite pid>-<n> with lo up and IPv6 disabled;
#   - for af_packet: a veth pair hlb<cc><pid>a (02:00:00:00:00:01) / hlb<cc><pid>b (02:00:00:00:00:02), up;
#   - for tap: the port creates its TAP hlb<cc><pid>t itself, with mac=02:00:00:00:00:03;
# and deletes the namespace (with every link in it) when the run ends; cleanup in common.sh does
# it too on error, Ctrl-C or SIGTERM. Nothing is done in the root namespace.
#
# Ports (the side under test):
#   Hyperlane: ip netns exec NS <hyperlane> testpmd -l 0-1 --vdev VDEV -- --forward-mode=M
#              --auto-start --stats-period 1 --duration D --total-num-mbufs=16384 --summary-json F
#   DPDK:      ip netns exec NS dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci <mem> --file-prefix P
#              --vdev VDEV -- --forward-mode=M --stats-period 1 --total-num-mbufs=16384 --auto-start
#              (ended by timeout's SIGTERM)
# Generator of the Rx cases, the same for both sides (DPDK's af_packet txonly, dpdk-peer.md §5d/e):
#   ip netns exec NS dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci <mem> --file-prefix P2
#     --vdev net_af_packet0,iface=<kernel side> -- --forward-mode=txonly --stats-period 1
#     --total-num-mbufs=16384 --auto-start
# so the port under test forwards on lcore 1 and the generator on lcore 0.

KIO_SEQ=0
KIO_TAP_MAC=02:00:00:00:00:03
KIO_MAC_A=02:00:00:00:00:01
KIO_MAC_B=02:00:00:00:00:02

# kio_names CASE CODE: KIO_NS, KIO_A, KIO_B, KIO_TAP for this run (interface names <= 15 chars).
kio_names() {
  local case=$1 code=$2
  KIO_SEQ=$((KIO_SEQ + 1))
  KIO_NS="hlb-${case}-$$-${KIO_SEQ}"
  KIO_A="hlb${code}$$a"
  KIO_B="hlb${code}$$b"
  KIO_TAP="hlb${code}$$t"
}

# kio_first_error FILE...: the first line that looks like an error (else the first non-empty line).
kio_first_error() { hlb_first_error 'error|exception|fail|cannot|unable|no such' '' "$@"; }

# kio_side_ready CASE SIDE RUN DIR: writes a failed/unavailable result and returns non-zero when
# the side cannot run at all (Hyperlane CLI not built; dpdk-testpmd missing).
kio_side_ready() {
  local case=$1 side=$2 run=$3 dir=$4
  if [[ $EUID != 0 ]]; then
    hlb_result failed "$case" "$side" "$run" "$dir" "needs root (network namespaces, TAP, AF_PACKET)"
    return 1
  fi
  if ! command -v dpdk-testpmd >/dev/null; then
    # DPDK is the generator of the Rx cases, so without it neither side can run those.
    if [[ $side == dpdk ]]; then
      hlb_result unavailable "$case" dpdk "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
      return 3
    elif [[ $case == *_rx ]]; then
      hlb_result failed "$case" "$side" "$run" "$dir" "the generator (dpdk-testpmd) is not installed (apt-get install dpdk-dev)"
      return 1
    fi
  fi
  if [[ $side == hyperlane && ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed "$case" hyperlane "$run" "$dir" "Hyperlane side failed: CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi
  return 0
}

# kio_setup CASE SIDE RUN DIR KIND: namespace (+ veth pair for af_packet). On failure writes a
# failed result, removes what was made and returns 1.
kio_setup() {
  local case=$1 side=$2 run=$3 dir=$4 kind=$5
  if ! hlb_netns_add "$KIO_NS" 2>"$dir/setup.err"; then
    hlb_netns_del "$KIO_NS"
    hlb_result failed "$case" "$side" "$run" "$dir" "cannot create netns $KIO_NS: $(head -c 200 "$dir/setup.err")"
    return 1
  fi
  if [[ $kind == af_packet ]]; then
    if ! { ip -n "$KIO_NS" link add "$KIO_A" address "$KIO_MAC_A" type veth peer name "$KIO_B" address "$KIO_MAC_B" &&
      ip -n "$KIO_NS" link set "$KIO_A" up && ip -n "$KIO_NS" link set "$KIO_B" up; } 2>>"$dir/setup.err"; then
      hlb_netns_del "$KIO_NS"
      hlb_result failed "$case" "$side" "$run" "$dir" "cannot create veth pair: $(head -c 200 "$dir/setup.err")"
      return 1
    fi
  fi
  return 0
}

# kio_port_cmd SIDE CASE VDEV MODE DIR HL_DURATION DPDK_LIMIT: the port under test in KIO_CMD, its
# process time limit in KIO_LIMIT, and the memory mode in KIO_MEM (DPDK side).
kio_port_cmd() {
  local side=$1 case=$2 vdev=$3 mode=$4 dir=$5 hldur=$6 dpdklimit=$7
  if [[ $side == hyperlane ]]; then
    KIO_CMD=(ip netns exec "$KIO_NS" "${HLB_HYPERLANE[@]}" testpmd -l 0-1 --vdev "$vdev" --
      --forward-mode="$mode" --auto-start --stats-period 1 --duration "$hldur"
      --total-num-mbufs=16384 --summary-json "$dir/summary.json")
    KIO_LIMIT=$((hldur + 60))
    KIO_MEM=""
  else
    hlb_dpdk_mem_args 256
    hlb_dpdk_prefix "$case"
    KIO_CMD=(ip netns exec "$KIO_NS" dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}"
      --file-prefix "$HLB_PREFIX" --vdev "$vdev" --
      --forward-mode="$mode" --stats-period 1 --total-num-mbufs=16384 --auto-start)
    KIO_LIMIT=$dpdklimit
    KIO_MEM=$HLB_DPDK_MEMMODE
  fi
}

# kio_gen_start CASE IFACE DIR: starts the generator (DPDK af_packet txonly on IFACE) in the
# background; KIO_GEN_PID is its timeout's PID.
kio_gen_start() {
  local case=$1 iface=$2 dir=$3
  hlb_dpdk_mem_args 256
  hlb_dpdk_prefix "${case}_gen"
  printf '%s\n' "generator: ip netns exec $KIO_NS dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci ${HLB_DPDK_MEM_ARGS[*]} --file-prefix $HLB_PREFIX --vdev net_af_packet0,iface=$iface -- --forward-mode=txonly --stats-period 1 --total-num-mbufs=16384 --auto-start" >>"$dir/commands.txt"
  hlb_spawn $((HLB_DURATION + 180)) "$dir/gen.stdout.txt" "$dir/gen.stderr.txt" \
    ip netns exec "$KIO_NS" dpdk-testpmd -l 0-1 --main-lcore 1 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" \
    --file-prefix "$HLB_PREFIX" --vdev "net_af_packet0,iface=$iface" -- \
    --forward-mode=txonly --stats-period 1 --total-num-mbufs=16384 --auto-start
  KIO_GEN_PID=$HLB_BG_PID
}

# kio_counter DEV rx|tx [FIELD]: a counter of DEV in KIO_NS (packets by default; empty when DEV
# does not exist).
kio_counter() {
  local dev=$1 dir=$2 field=${3:-packets} js
  js=$(ip -n "$KIO_NS" -s -j link show dev "$dev" 2>/dev/null) || return 0
  [[ $js =~ \"$dir\":\{[^}]*\"$field\":([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# kio_link_up DEV: DEV exists in KIO_NS and is administratively up.
kio_link_up() {
  local js
  js=$(ip -n "$KIO_NS" -j link show dev "$1" 2>/dev/null) || return 1
  [[ $js == *'"UP"'* ]]
}

# kio_wait_up DEV SECONDS PID: waits until DEV is up; fails early when PID has ended.
kio_wait_up() {
  local dev=$1 secs=$2 pid=$3 i
  for ((i = 0; i < secs * 5; i++)); do
    kio_link_up "$dev" && return 0
    hlb_alive "$pid" || return 1
    sleep 0.2
  done
  return 1
}

# kio_wait_traffic DEV rx|tx SECONDS PID: waits until DEV's packet counter grows by >= 1000;
# fails early when PID has ended.
kio_wait_traffic() {
  local dev=$1 dir=$2 secs=$3 pid=$4 i c0 c
  c0=$(kio_counter "$dev" "$dir")
  for ((i = 0; i < secs * 5; i++)); do
    sleep 0.2
    c=$(kio_counter "$dev" "$dir")
    if [[ -n "$c" ]]; then
      [[ -z "$c0" ]] && c0=$c
      ((c - c0 >= 1000)) && return 0
    fi
    hlb_alive "$pid" || return 1
  done
  return 1
}

# kio_finish CASE SIDE RUN DIR RC: after the parse: on a side with no figure, replace the result
# by "<Side> side failed: <first error line>" when the process failed; record memory mode, commands.
kio_finish() {
  local case=$1 side=$2 run=$3 dir=$4 rc=$5 ok
  ok=$(python3 -c 'import json,sys; print(1 if json.load(open(sys.argv[1])).get("ok") else 0)' "$dir/result.json" 2>/dev/null || echo 0)
  local label=Hyperlane
  [[ $side == dpdk ]] && label=DPDK
  if [[ $ok != 1 ]]; then
    local why
    why=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$dir/result.json" 2>/dev/null || true)
    if [[ -n "${KIO_FAIL:-}" ]]; then
      hlb_result failed "$case" "$side" "$run" "$dir" "$KIO_FAIL"
    elif [[ $rc != 0 && $rc != 124 && $rc != 143 ]] ||
      grep -qiE 'error|exception' "$dir/stderr.txt" 2>/dev/null; then
      hlb_result failed "$case" "$side" "$run" "$dir" \
        "$label side failed: $(kio_first_error "$dir/stderr.txt" "$dir/stdout.txt")"
      hlb_result_set "$dir" exitDetail "exit status $rc; parse: $why"
    fi
    hlb_log "$case/$side run $run: no figure: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("error",""))' "$dir/result.json" 2>/dev/null)"
  elif [[ $rc != 0 && $rc != 124 && $rc != 143 ]]; then
    hlb_result_note "$dir" "$side port exited with status $rc"
  fi
  if [[ $side == dpdk && -n "${KIO_MEM:-}" ]]; then
    hlb_result_set "$dir" memory "$KIO_MEM"
  fi
  hlb_result_set "$dir" namespace "$KIO_NS"
  hlb_result_set "$dir" portExitStatus "$rc"
  [[ -s "$dir/commands.txt" ]] && hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
  return 0
}

# kio_tx CASE CODE KIND SIDE RUN DIR: the port sends (txonly) into the kernel; the figure is the
# kernel's rx counter of the receiving netdev (TAP itself for tap, the veth peer for af_packet).
kio_tx() {
  local case=$1 code=$2 kind=$3 side=$4 run=$5 dir=$6 rc=0
  kio_side_ready "$case" "$side" "$run" "$dir" || return $?
  kio_names "$case" "$code"
  KIO_FAIL=""
  kio_setup "$case" "$side" "$run" "$dir" "$kind" || return 1
  local vdev counter_dev
  if [[ $kind == tap ]]; then
    vdev="net_tap0,iface=$KIO_TAP,mac=$KIO_TAP_MAC"
    counter_dev=$KIO_TAP
  else
    vdev="net_af_packet0,iface=$KIO_A"
    counter_dev=$KIO_B
  fi
  kio_port_cmd "$side" "$case" "$vdev" txonly "$dir" "$HLB_DURATION" $((HLB_DURATION + 2))
  printf 'port: %s\n' "${KIO_CMD[*]}" >"$dir/commands.txt"
  hlb_netns_sampler "$KIO_NS" "$dir/counters.txt" 0.5
  local sampler=$HLB_BG_PID
  hlb_run "$KIO_LIMIT" "$dir/stdout.txt" "$dir/stderr.txt" "${KIO_CMD[@]}" || rc=$?
  hlb_stop_bg "$sampler"
  hlb_netns_del "$KIO_NS"
  hlb_remove_prefix_dirs
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" kio-tx "$case" "$side" "$run" "$dir/stdout.txt" "$dir/counters.txt" \
    "$counter_dev" "${summary[@]}" >"$dir/result.json"
  kio_finish "$case" "$side" "$run" "$dir" "$rc"
}

# kio_rx CASE CODE KIND SIDE RUN DIR: the generator (DPDK af_packet txonly) sends from the kernel
# side; the port receives (rxonly); the figure is the port's Rx-pps.
#   af_packet: generator on veth B first, then the port on veth A runs D s (as null_io does).
#   tap: the port creates the TAP, so it starts first; once the TAP is up the generator starts on
#        it; D s after the generator's packets reach the TAP queue the port is stopped with
#        SIGTERM (both sides stop cleanly on it), so both sides see D s of traffic.
kio_rx() {
  local case=$1 code=$2 kind=$3 side=$4 run=$5 dir=$6 rc=0
  kio_side_ready "$case" "$side" "$run" "$dir" || return $?
  kio_names "$case" "$code"
  KIO_FAIL=""
  kio_setup "$case" "$side" "$run" "$dir" "$kind" || return 1
  local label=Hyperlane
  [[ $side == dpdk ]] && label=DPDK
  hlb_netns_sampler "$KIO_NS" "$dir/counters.txt" 0.5
  local sampler=$HLB_BG_PID
  KIO_GEN_PID=""
  if [[ $kind == af_packet ]]; then
    kio_gen_start "$case" "$KIO_B" "$dir"
    if ! kio_wait_traffic "$KIO_B" tx 60 "$KIO_GEN_PID"; then
      KIO_FAIL="generator (DPDK af_packet txonly on $KIO_B) sent nothing: $(kio_first_error "$dir/gen.stderr.txt" "$dir/gen.stdout.txt")"
    else
      kio_port_cmd "$side" "$case" "net_af_packet0,iface=$KIO_A" rxonly "$dir" "$HLB_DURATION" $((HLB_DURATION + 2))
      printf 'port: %s\n' "${KIO_CMD[*]}" >>"$dir/commands.txt"
      hlb_run "$KIO_LIMIT" "$dir/stdout.txt" "$dir/stderr.txt" "${KIO_CMD[@]}" || rc=$?
    fi
  else
    kio_port_cmd "$side" "$case" "net_tap0,iface=$KIO_TAP,mac=$KIO_TAP_MAC" rxonly "$dir" \
      $((HLB_DURATION + 120)) $((HLB_DURATION + 120))
    printf 'port: %s (stopped with SIGTERM %s s after the traffic starts)\n' "${KIO_CMD[*]}" "$HLB_DURATION" >>"$dir/commands.txt"
    hlb_spawn "$KIO_LIMIT" "$dir/stdout.txt" "$dir/stderr.txt" "${KIO_CMD[@]}"
    local port=$HLB_BG_PID
    if ! kio_wait_up "$KIO_TAP" 60 "$port"; then
      hlb_stop_proc "$port" || rc=$?
      [[ $rc == 0 ]] && rc=1
      KIO_FAIL="$label side failed: $(kio_first_error "$dir/stderr.txt" "$dir/stdout.txt")"
      hlb_log "$case/$side run $run: TAP $KIO_TAP never came up (port exit status $rc)"
    else
      kio_gen_start "$case" "$KIO_TAP" "$dir"
      if ! kio_wait_traffic "$KIO_TAP" tx 60 "$KIO_GEN_PID"; then
        KIO_FAIL="generator (DPDK af_packet txonly on $KIO_TAP) sent nothing: $(kio_first_error "$dir/gen.stderr.txt" "$dir/gen.stdout.txt")"
        hlb_stop_proc "$port" || true
      else
        sleep "$HLB_DURATION"
        hlb_stop_proc "$port" 20 || rc=$?
      fi
    fi
  fi
  [[ -n "$KIO_GEN_PID" ]] && { hlb_stop_proc "$KIO_GEN_PID" || true; }
  hlb_stop_bg "$sampler"
  hlb_netns_del "$KIO_NS"
  hlb_remove_prefix_dirs
  local summary=() rxdev gendev
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  if [[ $kind == tap ]]; then rxdev=$KIO_TAP gendev=$KIO_TAP; else rxdev=$KIO_A gendev=$KIO_B; fi
  python3 "$HLB_LIB/benchlib.py" kio-rx "$case" "$side" "$run" "$dir/stdout.txt" "$dir/gen.stdout.txt" \
    "$dir/counters.txt" "$kind" "$rxdev" "$gendev" "${summary[@]}" >"$dir/result.json"
  kio_finish "$case" "$side" "$run" "$dir" "$rc"
}
