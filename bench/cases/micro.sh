# shellcheck shell=bash
# Case micro: per-object cost of the memory layer, on one thread (lcore 0 for the pools).
#   ring_spsc_bulk32 / ring_mpmc_bulk32: Ring<nint> bulk 32 enqueue + dequeue
#     vs DPDK ring_perf_autotest "bulk (size: 32)" single-lcore figure / 32
#   mempool_bulk32: Mempool GetBulk 32 + PutBulk 32, cache 512
#     vs mpbench rte_mempool_get_bulk + rte_mempool_put_bulk 32, cache 512
#   mbuf_bulk32: AllocBulk 32 + Mbuf.FreeBulk 32 on a packet pool with cache 512
#     vs mpbench rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk 32
# Figure: TSC cycles per object (Hyperlane: BenchmarkDotNet median ns x TSC GHz from /proc/cpuinfo;
# DPDK: rte_rdtsc). Lower is better.

micro_describe() {
  echo "Ring / Mempool / Mbuf bulk 32 on one thread; TSC cycles per object"
}

micro_conditions() {
  echo "1 thread (lcore 0); burst 32; ring 4096; pools 16384 objects (2048 B; mbufs 2176 B data room), cache 512"
}

micro_needs() { echo "benchmarks"; }

micro_hyperlane() {
  local run=$1 dir=$2
  if [[ -z "${HLB_BENCH_DLL:-}" ]]; then
    hlb_result failed micro hyperlane "$run" "$dir" "Hyperlane.Benchmarks not built: ${HLB_BENCH_WHY:-}"
    return 1
  fi
  local mode=()
  [[ "$HLB_QUICK" == 1 ]] && mode=(--quick)
  local rc=0
  hlb_run 600 "$dir/stdout.txt" "$dir/stderr.txt" \
    dotnet "$HLB_BENCH_DLL" "${mode[@]}" --summary-json "$dir/bdn.json" --artifacts "$dir/bdn" || rc=$?
  python3 "$HLB_LIB/benchlib.py" micro-hyperlane "$run" "$dir/bdn.json" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "Hyperlane.Benchmarks exited with status $rc"
}

micro_dpdk() {
  local run=$1 dir=$2 rc=0
  local reps=7 ms=100
  [[ "$HLB_QUICK" == 1 ]] && reps=3 ms=50
  hlb_run 300 "$dir/micro.out" "$dir/micro.err" "$HLB_ROOT/bench/dpdk/micro.sh" "$dir" "$reps" "$ms" || rc=$?
  if [[ $rc == 3 ]]; then
    hlb_result unavailable micro dpdk "$run" "$dir" "$(cat "$dir/unavailable.txt" 2>/dev/null || echo unknown)"
    return 3
  fi
  python3 "$HLB_LIB/benchlib.py" micro-dpdk "$run" "$dir/ringperf.txt" "$dir/mpbench.txt" \
    "$(cat "$dir/memory.txt" 2>/dev/null)" >"$dir/result.json"
  [[ $rc == 0 ]] || hlb_result_note "$dir" "bench/dpdk/micro.sh exited with status $rc"
}
