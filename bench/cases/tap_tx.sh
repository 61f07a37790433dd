# shellcheck shell=bash
# Case tap_tx: the port sends 64-byte packets (txonly) into a TAP; the kernel receives them.
# Figure: Mpps the kernel TAP netdev received: its rx counter (ip -n NS -s -j link show), sampled
# every 0.5 s, delta / time over the run with the first and last partial intervals dropped.
# Cross-check: the port's own Tx-pps (testpmd stats). Setup and teardown: bench/lib/kernel_io.sh.
# shellcheck source=../lib/kernel_io.sh
[[ -n "${KIO_SEQ+x}" ]] || source "$HLB_LIB/kernel_io.sh"

tap_tx_describe() {
  echo "net_tap txonly -> kernel; Mpps the TAP netdev's kernel rx counter saw (cross-check: port Tx-pps)"
}

tap_tx_conditions() {
  echo "own netns per run (IPv6 off); --vdev net_tap0,iface=<tap>,mac=02:00:00:00:00:03; txonly 64 B, burst 32, 1 queue, 16384 mbufs, testpmd default descriptors; cores 0-1 (main 0, forwarding 1); kernel counter sampled every 0.5 s; ${HLB_DURATION} s per run; one write() per packet on both sides"
}

tap_tx_needs() { echo "cli"; }
tap_tx_hyperlane() { kio_tx tap_tx tt tap hyperlane "$1" "$2"; }
tap_tx_dpdk() { kio_tx tap_tx tt tap dpdk "$1" "$2"; }
