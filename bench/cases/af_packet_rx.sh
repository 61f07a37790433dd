# shellcheck shell=bash
# Case af_packet_rx: a generator sends on veth B; the port receives on veth A (rxonly) through
# AF_PACKET. The generator is the same for both sides: DPDK's testpmd txonly with net_af_packet
# on B (dpdk-peer.md §5e), main lcore 1 (forwarding on lcore 0); it starts first, the port then
# runs ${HLB_DURATION} s. Figure: the port's Rx-pps, median of its stats samples (first skipped).
# shellcheck source=../lib/kernel_io.sh
[[ -n "${KIO_SEQ+x}" ]] || source "$HLB_LIB/kernel_io.sh"

af_packet_rx_describe() {
  echo "DPDK af_packet txonly on veth B -> net_af_packet rxonly on veth A; the port's Rx Mpps"
}

af_packet_rx_conditions() {
  echo "own netns per run (IPv6 off); veth A 02:00:00:00:00:01 <-> B 02:00:00:00:00:02; port --vdev net_af_packet0,iface=<A> (DPDK defaults), rxonly, burst 32, 1 queue, 16384 mbufs, main 0, forwarding 1; generator: DPDK testpmd txonly 64 B on net_af_packet0,iface=<B> (main lcore 1, forwarding 0); ${HLB_DURATION} s per run"
}

af_packet_rx_needs() { echo "cli"; }
af_packet_rx_hyperlane() { kio_rx af_packet_rx pr af_packet hyperlane "$1" "$2"; }
af_packet_rx_dpdk() { kio_rx af_packet_rx pr af_packet dpdk "$1" "$2"; }
