# shellcheck shell=bash
# Case vhost_h2v: net_vhost txonly -> virtio_user rxonly (vhost enqueue, guest Rx). Figure: the
# virtio_user process's Rx Mpps. Cross-check: the net_vhost process's Tx-pps.
# Pairings (run interleaved in each round): Hyperlane<->Hyperlane (headline, / DPDK<->DPDK),
# DPDK<->DPDK, Hyperlane virtio_user<->DPDK net_vhost, DPDK virtio_user<->Hyperlane net_vhost.
# Commands, timing, memory and cleanup: bench/lib/vhost.sh (dpdk-peer.md §5c).
# shellcheck source=../lib/vhost.sh
[[ -n "${VH_SIDES+x}" ]] || source "$HLB_LIB/vhost.sh"

vhost_h2v_describe() {
  echo "vhost-user loopback: net_vhost txonly -> virtio_user rxonly (vhost enqueue / guest Rx); virtio_user Rx Mpps; 4 pairings"
}

vhost_h2v_conditions() { vh_conditions vhost_h2v; }
vhost_h2v_needs() { echo "cli"; }
vhost_h2v_pairings() { vh_pairings; }
vhost_h2v_hyperlane() { vh_run vhost_h2v hyperlane "$1" "$2"; }
vhost_h2v_dpdk() { vh_run vhost_h2v dpdk "$1" "$2"; }
vhost_h2v_hl_virtio() { vh_run vhost_h2v hl_virtio "$1" "$2"; }
vhost_h2v_hl_vhost() { vh_run vhost_h2v hl_vhost "$1" "$2"; }
