# shellcheck shell=bash
# Case af_packet_tx: the port sends 64-byte packets (txonly) on veth A through AF_PACKET; the
# kernel delivers them to the peer veth B. Figure: Mpps of B's kernel rx counter, sampled every
# 0.5 s, delta / time with the first and last partial intervals dropped. Cross-check: the port's
# own Tx-pps. Setup and teardown: bench/lib/kernel_io.sh.
# shellcheck source=../lib/kernel_io.sh
[[ -n "${KIO_SEQ+x}" ]] || source "$HLB_LIB/kernel_io.sh"

af_packet_tx_describe() {
  echo "net_af_packet txonly on veth A; Mpps the peer veth B's kernel rx counter saw (cross-check: port Tx-pps)"
}

af_packet_tx_conditions() {
  echo "own netns per run (IPv6 off); veth A 02:00:00:00:00:01 <-> B 02:00:00:00:00:02; --vdev net_af_packet0,iface=<A> (defaults: qdisc_bypass=1, blocksz 4096, framesz 2048, framecnt 512); txonly 64 B, burst 32, 1 queue, 16384 mbufs; cores 0-1 (main 0, forwarding 1); ${HLB_DURATION} s per run"
}

af_packet_tx_needs() { echo "cli"; }
af_packet_tx_hyperlane() { kio_tx af_packet_tx pt af_packet hyperlane "$1" "$2"; }
af_packet_tx_dpdk() { kio_tx af_packet_tx pt af_packet dpdk "$1" "$2"; }
