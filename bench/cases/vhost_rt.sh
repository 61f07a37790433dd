# shellcheck shell=bash
# Case vhost_rt: virtio_user flowgen -> net_vhost macswap -> back to virtio_user (round trip).
# Figure: packets returned to virtio_user, its Rx Mpps. Cross-check: virtio_user's Tx-pps (offered).
# Pairings (run interleaved in each round): Hyperlane<->Hyperlane (headline, / DPDK<->DPDK),
# DPDK<->DPDK, Hyperlane virtio_user<->DPDK net_vhost, DPDK virtio_user<->Hyperlane net_vhost.
# Commands, timing, memory and cleanup: bench/lib/vhost.sh (dpdk-peer.md §5c).
# shellcheck source=../lib/vhost.sh
[[ -n "${VH_SIDES+x}" ]] || source "$HLB_LIB/vhost.sh"

vhost_rt_describe() {
  echo "vhost-user loopback: virtio_user flowgen -> net_vhost macswap -> virtio_user; packets returned, Rx Mpps; 4 pairings"
}

vhost_rt_conditions() { vh_conditions vhost_rt; }
vhost_rt_needs() { echo "cli"; }
vhost_rt_pairings() { vh_pairings; }
vhost_rt_hyperlane() { vh_run vhost_rt hyperlane "$1" "$2"; }
vhost_rt_dpdk() { vh_run vhost_rt dpdk "$1" "$2"; }
vhost_rt_hl_virtio() { vh_run vhost_rt hl_virtio "$1" "$2"; }
vhost_rt_hl_vhost() { vh_run vhost_rt hl_vhost "$1" "$2"; }
