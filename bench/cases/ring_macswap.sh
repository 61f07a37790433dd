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

ring_macswap_hyperlane() { hlb_testpmd_hyperlane ring_macswap "$1" "$2" RMS_VDEVS RMS_FWD; }

ring_macswap_dpdk() { hlb_testpmd_dpdk ring_macswap "$1" "$2" ringms RMS_VDEVS RMS_FWD; }
