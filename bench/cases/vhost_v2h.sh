# shellcheck shell=bash
# Case vhost_v2h: virtio_user txonly -> net_vhost rxonly (guest Tx, vhost dequeue). Figure: the
# net_vhost process's Rx Mpps. Cross-check: the virtio_user process's Tx-pps.
# Pairings (run interleaved in each round): Hyperlane<->Hyperlane (headline, / DPDK<->DPDK),
# DPDK<->DPDK, Hyperlane virtio_user<->DPDK net_vhost, DPDK virtio_user<->Hyperlane net_vhost.
# Commands, timing, memory and cleanup: bench/lib/vhost.sh (dpdk-peer.md §5c).
# shellcheck source=../lib/vhost.sh
[[ -n "${VH_SIDES+x}" ]] || source "$HLB_LIB/vhost.sh"

vhost_v2h_describe() {
  echo "vhost-user loopback: virtio_user txonly -> net_vhost rxonly (guest Tx / vhost dequeue); net_vhost Rx Mpps; 4 pairings"
}

vhost_v2h_conditions() { vh_conditions vhost_v2h; }
vhost_v2h_needs() { echo "cli"; }
vhost_v2h_pairings() { vh_pairings; }
vhost_v2h_hyperlane() { vh_run vhost_v2h hyperlane "$1" "$2"; }
vhost_v2h_dpdk() { vh_run vhost_v2h dpdk "$1" "$2"; }
vhost_v2h_hl_virtio() { vh_run vhost_v2h hl_virtio "$1" "$2"; }
vhost_v2h_hl_vhost() { vh_run vhost_v2h hl_vhost "$1" "$2"; }
