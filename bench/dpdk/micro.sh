#!/usr/bin/env bash
# DPDK 22.11 micro baselines for the "micro" case of bench/run.sh (usable on its own too):
#   1. ring: DPDK_TEST=ring_perf_autotest dpdk-test -l 0-1 --no-pci <mem> --file-prefix hlb_ring_*
#      (the single-lcore "bulk (size: 32)" lines are what counts);
#   2. mempool and mbuf: bench/dpdk/mpbench.c, compiled here into a temporary directory with
#      cc -O3 $(pkg-config --cflags libdpdk) mpbench.c $(pkg-config --libs libdpdk)
#      and run on one lcore (-l 0). A bench harness only: never shipped or linked into Hyperlane.
# Memory: --in-memory on hugepages when any are reserved, else --no-huge -m 512.
#
# Usage: bench/dpdk/micro.sh OUTDIR [REPS [MS]]
# Writes OUTDIR/ringperf.txt, OUTDIR/mpbench.txt (stdout of each) and OUTDIR/memory.txt.
# Exit: 0 done, 3 DPDK cannot run here (reason on stderr and in OUTDIR/unavailable.txt), else failure.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=../lib/common.sh
source "$here/../lib/common.sh"

out=${1:?usage: micro.sh OUTDIR [REPS [MS]]}
reps=${2:-7}
ms=${3:-100}
mkdir -p "$out"
hlb_install_traps
hlb_init_tmp

unavailable() {
  echo "$*" >"$out/unavailable.txt"
  hlb_log "DPDK micro: cannot run: $*"
  exit 3
}

command -v dpdk-test >/dev/null || unavailable "dpdk-test not found (apt-get install dpdk-dev)"
command -v cc >/dev/null || unavailable "no C compiler (cc) to build mpbench"
pkg-config --exists libdpdk 2>/dev/null || unavailable "pkg-config libdpdk not found (apt-get install libdpdk-dev)"

# shellcheck disable=SC2046
if ! cc -O3 -march=native -Wall $(pkg-config --cflags libdpdk) "$here/mpbench.c" -o "$HLB_TMP/mpbench" \
  $(pkg-config --libs libdpdk) 2>"$out/mpbench-build.txt"; then
  unavailable "mpbench did not compile: $(head -c 400 "$out/mpbench-build.txt")"
fi

hlb_dpdk_mem_args 512
echo "$HLB_DPDK_MEMMODE" >"$out/memory.txt"
hlb_log "DPDK micro: memory $HLB_DPDK_MEMMODE"

hlb_dpdk_prefix ring
prefix=$HLB_PREFIX
rc=0
DPDK_TEST=ring_perf_autotest hlb_run 120 "$out/ringperf.txt" "$out/ringperf.err" \
  dpdk-test -l 0-1 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" || rc=$?
hlb_remove_prefix_dirs
[[ $rc == 0 ]] || hlb_log "ring_perf_autotest exited $rc (see $out/ringperf.err)"

hlb_dpdk_prefix mp
prefix=$HLB_PREFIX
rc2=0
hlb_run 120 "$out/mpbench.txt" "$out/mpbench.err" \
  "$HLB_TMP/mpbench" -l 0 --no-pci "${HLB_DPDK_MEM_ARGS[@]}" --file-prefix "$prefix" -- "$reps" "$ms" || rc2=$?
hlb_remove_prefix_dirs
[[ $rc2 == 0 ]] || hlb_log "mpbench exited $rc2 (see $out/mpbench.err)"

[[ $rc == 0 && $rc2 == 0 ]]
