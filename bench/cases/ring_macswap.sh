# shellcheck shell=bash
# Case ring_macswap (dpdk-peer.md §4/§5a): 2 x net_ring created without arguments (each port's Tx
# ring is its own Rx ring, as in DPDK), macswap forwarding, --tx-first (one burst of 32 per stream
# starts the traffic: 64 mbufs circulate), one forwarding lcore (1), main lcore 0. macswap swaps
# the Ethernet addresses of every packet, so each packet header is touched: the "touch every
# packet" bound (ring_io, which only moves pointers, is not a case). Ring size 1024 on both sides
# (the net_ring default), testpmd's default descriptors (net_ring ignores them).
# Figure: Rx Mpps summed over both ports, median over the stats samples (the first skipped), the
# same parse as null_io for both sides; Hyperlane's --summary-json total as a cross-check.
# Both sides get --total-num-mbufs=16384; memory follows the hugepage reservation.

ring_macswap_describe() {
  echo "2 x net_ring (each looped to itself), macswap forwarding, --tx-first; Rx Mpps summed over both ports"
}

ring_macswap_conditions() {
  echo "cores 0-1 (main 0, forwarding 1); --vdev net_ring0 --vdev net_ring1 (no args: ring size 1024, each port's Tx ring is its Rx ring); macswap, --tx-first (64 mbufs circulating); 64 B packets; burst 32; descriptors: testpmd default (net_ring ignores them); ${HLB_DURATION} s per run; 16384 mbufs"
}

ring_macswap_needs() { echo "cli"; }

RMS_VDEVS=(--vdev net_ring0 --vdev net_ring1)
RMS_FWD=(--forward-mode=macswap --tx-first --auto-start --stats-period 1 --total-num-mbufs=16384)

ring_macswap_hyperlane() {
  local run=$1 dir=$2
  if [[ ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed ring_macswap hyperlane "$run" "$dir" "Hyperlane CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi
  local rc=0
  hlb_sample_thp "$dir/summary.json" $(((HLB_DURATION + 1) / 2 + 1)) "$dir/thp_kb.txt"
  local sampler=$HLB_BG_PID
  printf 'port: %s\n' "${HLB_HYPERLANE[*]} testpmd -l 0-1 ${RMS_VDEVS[*]} -- ${RMS_FWD[*]} --duration $HLB_DURATION --summary-json $dir/summary.json" >"$dir/commands.txt"
  hlb_run $((HLB_DURATION + 60)) "$dir/stdout.txt" "$dir/stderr.txt" \
    "${HLB_HYPERLANE[@]}" testpmd -l 0-1 "${RMS_VDEVS[@]}" -- \
    "${RMS_FWD[@]}" --duration "$HLB_DURATION" --summary-json "$dir/summary.json" || rc=$?
  hlb_stop_bg "$sampler"
  if [[ $rc != 0 ]]; then
    hlb_log "ring_macswap/hyperlane run $run: exit $rc (stderr: $(tail -c 300 "$dir/stderr.txt" | tr '\n' ' '))"
  fi
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" null-io-case ring_macswap hyperlane "$run" "$dir/stdout.txt" "${summary[@]}" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "hyperlane exited with status $rc"
  if [[ -s "$dir/thp_kb.txt" ]]; then
    hlb_result_set "$dir" thpAnonHugePagesKiB "$(cat "$dir/thp_kb.txt")"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}

ring_macswap_dpdk() {
  local run=$1 dir=$2
  if ! command -v dpdk-testpmd >/dev/null; then
    hlb_result unavailable ring_macswap dpdk "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
    return 3
  fi
  hlb_dpdk_mem_args 256
  hlb_dpdk_prefix ringms
  local prefix=$HLB_PREFIX rc=0
  printf 'port: %s\n' "dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci ${HLB_DPDK_MEM_ARGS[*]} --file-prefix $prefix ${RMS_VDEVS[*]} -- ${RMS_FWD[*]} (ended by SIGTERM after $((HLB_DURATION + 2)) s)" >"$dir/commands.txt"
  # testpmd prints a stats sample about every 2 s; timeout ends it with SIGTERM (clean stop, rc 124).
  hlb_run $((HLB_DURATION + 2)) "$dir/stdout.txt" "$dir/stderr.txt" \
    dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" \
    "${RMS_VDEVS[@]}" -- "${RMS_FWD[@]}" || rc=$?
  hlb_remove_prefix_dirs
  python3 "$HLB_LIB/benchlib.py" null-io-case ring_macswap dpdk "$run" "$dir/stdout.txt" >"$dir/result.json"
  hlb_result_set "$dir" memory "$HLB_DPDK_MEMMODE"
  if [[ $rc != 0 && $rc != 124 ]]; then
    hlb_result_note "$dir" "dpdk-testpmd exited with status $rc"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}
