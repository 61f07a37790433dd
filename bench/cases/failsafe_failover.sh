# shellcheck shell=bash
# Case failsafe_failover: how long traffic stops when the preferred sub-device of a failsafe port
# disappears, and how long it takes to come back when it reappears.
#
# Per run (one side), in its own netns (IPv6 off; bench/lib/kernel_io.sh makes and removes it):
#   veth A (02:00:00:00:00:01) <-> veth B (02:00:00:00:00:02), both up; the port creates a TAP T
#   (mac=02:00:00:00:00:03). The port under test, inside the netns, txonly on
#     Hyperlane: --vdev 'net_failsafe0,dev(net_af_packet0,iface=A),dev(net_tap0,iface=T,mac=..),hotplug_poll=100'
#     DPDK:      the same with the TAP named net_tap_fs0 (dpdk-peer.md §5f)
#   and the observer bench/lib/failover_probe.py (ip netns exec NS python3 ...): AF_PACKET
#   TPACKET_V3 rings on B and on T, kernel timestamps per frame. After 2 s of traffic on B it
#   deletes A (B goes with it), waits up to 3 s for frames on T, then 1 s later re-creates the pair
#   (same names and MACs), brings it up and waits up to 3 s for frames on B, then 1 s more.
#   The port is then stopped with SIGTERM and the netns deleted.
# Figures: failover gap (ms) = first frame on T after the deletion - last frame on B; unplug->TAP
# (ms) = first frame on T - the delete request (the gap without any stall of the port before the
# unplug; a note says when B had been idle > 50 ms); return time (ms) = first frame on the new B -
# the moment the re-created pair was up (kernel ack of A up). When it never happens
# the metric is an outcome ("did not fail over" / "did not return"), not a number, and the report
# says so instead of a ratio: DPDK 22.11 never fails over here, because af_packet raises no
# removal event (dpdk-peer.md §5f), and never returns (its socket stays bound to the old ifindex).
# Cleanup: the netns (with the veths, the TAP and every process in it) is deleted at the end of
# each run and by common.sh's traps on error, Ctrl-C or SIGTERM; nothing is done outside it.
# shellcheck source=../lib/kernel_io.sh
[[ -n "${KIO_SEQ+x}" ]] || source "$HLB_LIB/kernel_io.sh"

FSFO_STEADY=2
FSFO_FAILOVER_TIMEOUT=3
FSFO_HOLD=1
FSFO_RETURN_TIMEOUT=3

failsafe_failover_describe() {
  echo "net_failsafe(af_packet on veth A preferred, net_tap fallback) txonly: ms from the last frame on veth B to the first on the TAP after A is deleted, and until frames reach B again once the pair is re-created"
}

failsafe_failover_conditions() {
  echo "own netns per run (IPv6 off); veth A 02:00:00:00:00:01 <-> B 02:00:00:00:00:02; TAP made by the port, mac=02:00:00:00:00:03; --vdev 'net_failsafe0,dev(net_af_packet0,iface=<A>),dev(<tap>,iface=<T>,mac=..),hotplug_poll=100', <tap> = net_tap0 (Hyperlane) / net_tap_fs0 (DPDK); txonly 64 B, burst 32, 16384 mbufs; cores 0-1 (main 0, forwarding 1); observer bench/lib/failover_probe.py: TPACKET_V3 rings on B and the TAP, kernel frame timestamps; A deleted (rtnetlink) after ${FSFO_STEADY} s of traffic; failover window ${FSFO_FAILOVER_TIMEOUT} s; pair re-created ${FSFO_HOLD} s later (same names/MACs, B then A up); return window ${FSFO_RETURN_TIMEOUT} s; --duration not used (fixed timeline)"
}

failsafe_failover_needs() { echo "cli"; }
failsafe_failover_hyperlane() { fsfo_run hyperlane "$1" "$2"; }
failsafe_failover_dpdk() { fsfo_run dpdk "$1" "$2"; }

# fsfo_run SIDE RUN DIR
fsfo_run() {
  local side=$1 run=$2 dir=$3 case=failsafe_failover rc=0 prc=0
  kio_side_ready "$case" "$side" "$run" "$dir" || return $?
  kio_names "$case" fo
  KIO_FAIL=""
  kio_setup "$case" "$side" "$run" "$dir" af_packet || return 1
  local tapdrv=net_tap0
  [[ $side == dpdk ]] && tapdrv=net_tap_fs0
  local vdev="net_failsafe0,dev(net_af_packet0,iface=$KIO_A),dev($tapdrv,iface=$KIO_TAP,mac=$KIO_TAP_MAC),hotplug_poll=100"
  # the port runs until the observer is done (then SIGTERM); the limits only guard against a hang
  kio_port_cmd "$side" "$case" "$vdev" txonly "$dir" 240 300
  printf 'port: %s (stopped with SIGTERM when the observer is done)\n' "${KIO_CMD[*]}" >"$dir/commands.txt"
  hlb_spawn "$KIO_LIMIT" "$dir/stdout.txt" "$dir/stderr.txt" "${KIO_CMD[@]}"
  local port=$HLB_BG_PID
  local probe=(ip netns exec "$KIO_NS" python3 "$HLB_LIB/failover_probe.py" --ns "$KIO_NS"
    --a "$KIO_A" --b "$KIO_B" --tap "$KIO_TAP" --mac-a "$KIO_MAC_A" --mac-b "$KIO_MAC_B"
    --watch-pid "$port" --start-timeout 60 --steady "$FSFO_STEADY"
    --failover-timeout "$FSFO_FAILOVER_TIMEOUT" --hold "$FSFO_HOLD" --return-timeout "$FSFO_RETURN_TIMEOUT"
    --out "$dir/probe.json" --timeline "$dir/timeline.txt")
  printf 'observer: %s\n' "${probe[*]}" >>"$dir/commands.txt"
  hlb_run 150 "$dir/probe.stdout.txt" "$dir/probe.stderr.txt" "${probe[@]}" || prc=$?
  if hlb_alive "$port"; then
    hlb_stop_proc "$port" 20 || rc=$?
  else
    wait "$port" 2>/dev/null || rc=$?
    hlb_reap "$port"
    [[ $rc == 0 ]] && rc=1 # it ended before the observer was done
    KIO_FAIL="$( [[ $side == dpdk ]] && echo DPDK || echo Hyperlane) side failed: the port exited (status $rc) during the run: $(kio_first_error "$dir/stderr.txt" "$dir/stdout.txt")"
  fi
  hlb_netns_del "$KIO_NS"
  hlb_remove_prefix_dirs
  if [[ $prc != 0 && ! -s "$dir/probe.json" ]]; then
    hlb_log "$case/$side run $run: observer exited $prc: $(tail -c 300 "$dir/probe.stderr.txt" | tr '\n' ' ')"
  fi
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" failover "$case" "$side" "$run" "$dir/probe.json" "$dir/stdout.txt" \
    "${summary[@]}" >"$dir/result.json"
  kio_finish "$case" "$side" "$run" "$dir" "$rc"
}
