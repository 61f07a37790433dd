# shellcheck shell=bash
# Case null_io: 2 x net_null, io forwarding, one forwarding lcore (1), main lcore 0.
# Figure: Rx Mpps summed over both ports, median over the stats samples (the first skipped), the
# same parse for both sides (testpmd's "Throughput (since last show)" Rx-pps lines). For Hyperlane
# the --summary-json total is recorded as a cross-check. This is the framework-overhead bound:
# every packet is an mbuf allocated by net_null Rx and freed by net_null Tx.
# Both sides get --total-num-mbufs=16384 (testpmd's default pool does not fit in --no-huge -m 256).
# Memory: both sides follow the hugepage reservation (hugepages when reserved, else 4 KiB pages:
# DPDK --no-huge -m 256, Hyperlane anonymous memory with THP); the report names each side's mode.

null_io_describe() {
  echo "2 x net_null, io forwarding, 1 forwarding lcore; Rx Mpps summed over both ports"
}

null_io_conditions() {
  echo "cores 0-1 (main 0, forwarding 1); 64 B packets (net_null default); burst 32; descriptors: driver default (net_null keeps no ring); ${HLB_DURATION} s per run; 16384 mbufs"
}

null_io_needs() { echo "cli"; }

null_io_hyperlane() {
  local run=$1 dir=$2
  if [[ ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed null_io hyperlane "$run" "$dir" "Hyperlane CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi
  local rc=0
  hlb_sample_thp "$dir/summary.json" $(((HLB_DURATION + 1) / 2 + 1)) "$dir/thp_kb.txt"
  local sampler=$HLB_BG_PID
  hlb_run $((HLB_DURATION + 60)) "$dir/stdout.txt" "$dir/stderr.txt" \
    "${HLB_HYPERLANE[@]}" testpmd -l 0-1 --vdev net_null0 --vdev net_null1 -- \
    --forward-mode=io --auto-start --stats-period 1 --duration "$HLB_DURATION" \
    --total-num-mbufs=16384 --summary-json "$dir/summary.json" || rc=$?
  hlb_stop_bg "$sampler"
  if [[ $rc != 0 ]]; then
    hlb_log "null_io/hyperlane run $run: exit $rc (stderr: $(tail -c 300 "$dir/stderr.txt" | tr '\n' ' '))"
  fi
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" null-io hyperlane "$run" "$dir/stdout.txt" "${summary[@]}" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "hyperlane exited with status $rc"
  if [[ -s "$dir/thp_kb.txt" ]]; then
    hlb_result_set "$dir" thpAnonHugePagesKiB "$(cat "$dir/thp_kb.txt")"
  fi
}

null_io_dpdk() {
  local run=$1 dir=$2
  if ! command -v dpdk-testpmd >/dev/null; then
    hlb_result unavailable null_io dpdk "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
    return 3
  fi
  hlb_dpdk_mem_args 256
  hlb_dpdk_prefix null
  local prefix=$HLB_PREFIX rc=0
  # testpmd prints a stats sample about every 2 s; timeout ends it with SIGTERM (clean stop, rc 124).
  hlb_run $((HLB_DURATION + 2)) "$dir/stdout.txt" "$dir/stderr.txt" \
    dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" \
    --vdev net_null0 --vdev net_null1 -- \
    --forward-mode=io --stats-period 1 --total-num-mbufs=16384 --auto-start || rc=$?
  hlb_remove_prefix_dirs
  python3 "$HLB_LIB/benchlib.py" null-io dpdk "$run" "$dir/stdout.txt" >"$dir/result.json"
  hlb_result_set "$dir" memory "$HLB_DPDK_MEMMODE"
  if [[ $rc != 0 && $rc != 124 ]]; then
    hlb_result_note "$dir" "dpdk-testpmd exited with status $rc"
  fi
}
