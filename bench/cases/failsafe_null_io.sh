# shellcheck shell=bash
# Case failsafe_null_io: null_io through net_failsafe: two failsafe ports, each over one net_null
# sub-device (--vdev 'net_failsafe0,dev(net_null0)' --vdev 'net_failsafe1,dev(net_null1)'), io
# forwarding between them, one forwarding lcore (1), main lcore 0. Everything else as null_io:
# figure = Rx Mpps summed over both (failsafe) ports, median over the stats samples (first skipped),
# the same parse for both sides; --total-num-mbufs=16384 on both; memory follows the hugepage
# reservation. DPDK: testpmd with the same vdevs (dpdk-peer.md §4: "failsafe_null_io ≈ null_io").
# The cost of the failsafe layer is the ratio failsafe_null_io / null_io per side: the report prints
# it when both cases ran in the same invocation (bench/run.sh --cases null_io,failsafe_null_io), and
# otherwise says so and gives the reference figures.

failsafe_null_io_describe() {
  echo "2 x net_failsafe over net_null, io forwarding, 1 forwarding lcore; Rx Mpps summed over both ports (overhead vs null_io in the report when both ran)"
}

failsafe_null_io_conditions() {
  echo "--vdev 'net_failsafe0,dev(net_null0)' --vdev 'net_failsafe1,dev(net_null1)' (hotplug_poll default 2000 ms); cores 0-1 (main 0, forwarding 1); 64 B packets (net_null default); burst 32; descriptors: driver default; ${HLB_DURATION} s per run; 16384 mbufs"
}

failsafe_null_io_needs() { echo "cli"; }

FSNULL_VDEVS=(--vdev 'net_failsafe0,dev(net_null0)' --vdev 'net_failsafe1,dev(net_null1)')

failsafe_null_io_hyperlane() {
  local run=$1 dir=$2
  if [[ ${#HLB_HYPERLANE[@]} == 0 ]]; then
    hlb_result failed failsafe_null_io hyperlane "$run" "$dir" "Hyperlane CLI not available: ${HLB_HYPERLANE_WHY:-not built}"
    return 1
  fi
  local rc=0
  hlb_sample_thp "$dir/summary.json" $(((HLB_DURATION + 1) / 2 + 1)) "$dir/thp_kb.txt"
  local sampler=$HLB_BG_PID
  printf 'port: %s\n' "${HLB_HYPERLANE[*]} testpmd -l 0-1 ${FSNULL_VDEVS[*]} -- --forward-mode=io --auto-start --stats-period 1 --duration $HLB_DURATION --total-num-mbufs=16384 --summary-json $dir/summary.json" >"$dir/commands.txt"
  hlb_run $((HLB_DURATION + 60)) "$dir/stdout.txt" "$dir/stderr.txt" \
    "${HLB_HYPERLANE[@]}" testpmd -l 0-1 "${FSNULL_VDEVS[@]}" -- \
    --forward-mode=io --auto-start --stats-period 1 --duration "$HLB_DURATION" \
    --total-num-mbufs=16384 --summary-json "$dir/summary.json" || rc=$?
  hlb_stop_bg "$sampler"
  if [[ $rc != 0 ]]; then
    hlb_log "failsafe_null_io/hyperlane run $run: exit $rc (stderr: $(tail -c 300 "$dir/stderr.txt" | tr '\n' ' '))"
  fi
  local summary=()
  [[ -s "$dir/summary.json" ]] && summary=("$dir/summary.json")
  python3 "$HLB_LIB/benchlib.py" null-io-case failsafe_null_io hyperlane "$run" "$dir/stdout.txt" "${summary[@]}" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "hyperlane exited with status $rc"
  if [[ -s "$dir/thp_kb.txt" ]]; then
    hlb_result_set "$dir" thpAnonHugePagesKiB "$(cat "$dir/thp_kb.txt")"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}

failsafe_null_io_dpdk() {
  local run=$1 dir=$2
  if ! command -v dpdk-testpmd >/dev/null; then
    hlb_result unavailable failsafe_null_io dpdk "$run" "$dir" "dpdk-testpmd not installed (apt-get install dpdk-dev)"
    return 3
  fi
  hlb_dpdk_mem_args 256
  hlb_dpdk_prefix fsnull
  local prefix=$HLB_PREFIX rc=0
  printf 'port: %s\n' "dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci ${HLB_DPDK_MEM_ARGS[*]} --file-prefix $prefix ${FSNULL_VDEVS[*]} -- --forward-mode=io --stats-period 1 --total-num-mbufs=16384 --auto-start (ended by SIGTERM after $((HLB_DURATION + 2)) s)" >"$dir/commands.txt"
  # testpmd prints a stats sample about every 2 s; timeout ends it with SIGTERM (clean stop, rc 124).
  hlb_run $((HLB_DURATION + 2)) "$dir/stdout.txt" "$dir/stderr.txt" \
    dpdk-testpmd -l 0-1 --main-lcore 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" \
    "${FSNULL_VDEVS[@]}" -- \
    --forward-mode=io --stats-period 1 --total-num-mbufs=16384 --auto-start || rc=$?
  hlb_remove_prefix_dirs
  python3 "$HLB_LIB/benchlib.py" null-io-case failsafe_null_io dpdk "$run" "$dir/stdout.txt" >"$dir/result.json"
  hlb_result_set "$dir" memory "$HLB_DPDK_MEMMODE"
  if [[ $rc != 0 && $rc != 124 ]]; then
    hlb_result_note "$dir" "dpdk-testpmd exited with status $rc"
  fi
  hlb_result_set "$dir" commands "$(cat "$dir/commands.txt")"
}
