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
FSNULL_FWD=(--forward-mode=io --auto-start --stats-period 1 --total-num-mbufs=16384)

failsafe_null_io_hyperlane() { hlb_testpmd_hyperlane failsafe_null_io "$1" "$2" FSNULL_VDEVS FSNULL_FWD; }

failsafe_null_io_dpdk() { hlb_testpmd_dpdk failsafe_null_io "$1" "$2" fsnull FSNULL_VDEVS FSNULL_FWD; }
