# shellcheck shell=bash
# Case tap_rx: a kernel-side generator sends into the TAP netdev; the port receives (rxonly).
# The generator is the same for both sides: DPDK's testpmd txonly with net_af_packet on the TAP
# netdev (dpdk-peer.md §5d), main lcore 1 (forwarding on lcore 0). The port creates the TAP, so it
# starts first; the generator starts once the TAP is up, and the port is stopped with SIGTERM
# ${HLB_DURATION} s after the generator's packets reach the TAP queue.
# Figure: the port's Rx-pps, median of its stats samples once traffic flows (first skipped).
# Caveat: DPDK 22.11's tap Rx is signal-driven (O_ASYNC + rt-signal; it reads only after a
# signal), about 0.1 Mpps here, and the kernel drops the rest on the TAP queue (tx_dropped).
# shellcheck source=../lib/kernel_io.sh
[[ -n "${KIO_SEQ+x}" ]] || source "$HLB_LIB/kernel_io.sh"

tap_rx_describe() {
  echo "DPDK af_packet txonly on the TAP netdev -> net_tap rxonly; the port's Rx Mpps"
}

tap_rx_conditions() {
  echo "own netns per run (IPv6 off); --vdev net_tap0,iface=<tap>,mac=02:00:00:00:00:03, rxonly, burst 32, 1 queue, 16384 mbufs; generator: DPDK testpmd txonly 64 B on net_af_packet0,iface=<tap> (main lcore 1, forwarding 0); port main 0, forwarding 1; ${HLB_DURATION} s of traffic, port stopped by SIGTERM; DPDK tap Rx is signal-driven (~0.1 Mpps)"
}

tap_rx_needs() { echo "cli"; }
tap_rx_hyperlane() { kio_rx tap_rx tr tap hyperlane "$1" "$2"; }
tap_rx_dpdk() { kio_rx tap_rx tr tap dpdk "$1" "$2"; }
