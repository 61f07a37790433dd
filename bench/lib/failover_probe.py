#!/usr/bin/env python3
"""Kernel-side observer and actor of the failsafe_failover case (bench/cases/failsafe_failover.sh).

Runs inside the case's network namespace (ip netns exec NS python3 failover_probe.py --ns NS ...)
and refuses to act unless /proc/self/ns/net is /run/netns/NS, so the rtnetlink requests it makes
(delete veth A; create the pair again; set it up) never reach another namespace's interfaces.

It watches, with one AF_PACKET socket per netdev (TPACKET_V3 receive ring, ETH_P_ALL, outgoing
frames ignored), the frames that reach
  - veth B, the kernel peer of veth A (A is the failsafe port's preferred af_packet sub-device);
  - the TAP netdev T (the failsafe port's fallback net_tap sub-device; frames the port writes to
    the TAP arrive as received frames on T).
Every frame gets a kernel timestamp (CLOCK_REALTIME, ns) in its ring header; the ring is read
per block (first frame's header, last frame's timestamp, frame count), so the observer needs
almost no CPU however fast the port sends, and at the boundaries the exact frames are read.

Timeline (times are CLOCK_REALTIME ns):
  1. wait until T exists (bound) and frames arrive on B (the port started), then --steady s;
  2. delete A (RTM_DELLINK; B goes with it); t_del = just before the request;
  3. wait up to --failover-timeout s for a frame on T with a timestamp >= t_del;
     failover gap = first such frame on T - last frame on B; detect = first frame on T - t_del;
  4. after --hold s: re-create the pair (same names and MACs; both down), bind a new socket to
     the new B, bring B then A up (t_up = when the kernel acknowledged A up);
  5. wait up to --return-timeout s for a frame on the new B; return time = first frame - t_up;
     then --hold s more (to see whether T goes quiet again); switch-back = first frame on the new
     B - last frame on T (negative: both carried frames for a while).
Output: one JSON object (--out) and a text timeline of events and ring blocks (--timeline).
"""

import argparse
import json
import mmap
import os
import select
import socket
import struct
import sys
import time

SOL_PACKET = 263
PACKET_RX_RING = 5
PACKET_STATISTICS = 6
PACKET_VERSION = 10
PACKET_IGNORE_OUTGOING = 23
TPACKET_V3 = 2
ETH_P_ALL = 0x0003
TP_STATUS_KERNEL = 0
TP_STATUS_USER = 1

# 128 blocks of 256 KiB per socket: a block holds ~1600 64-byte frames and is handed over when
# full or RETIRE_TOV_MS after it was opened, so the ring buffers >= 128 x 4 ms at low rates and
# ~200 k frames at high rates while the reader is descheduled.
BLOCK_SIZE = 1 << 18
BLOCK_NR = 128
FRAME_SIZE = 2048
RETIRE_TOV_MS = 4

# rtnetlink (the links are deleted, created and brought up through it, so the times taken around
# each request are those of the kernel operation, not of starting an `ip` process)
NETLINK_ROUTE = 0
NLMSG_ERROR = 2
RTM_NEWLINK = 16
RTM_DELLINK = 17
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
IFLA_ADDRESS = 1
IFLA_IFNAME = 3
IFLA_LINKINFO = 18
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
VETH_INFO_PEER = 1
NLA_F_NESTED = 0x8000
IFF_UP = 0x1


def now_ns():
    return time.time_ns()


class Ring:
    """One AF_PACKET socket with a TPACKET_V3 rx ring, bound to one netdev (by ifindex)."""

    def __init__(self, label, ifname, gen, bind=True):
        self.label, self.ifname, self.gen = label, ifname, gen
        self.ifindex = None
        # protocol 0 at creation: nothing is queued before bind() names the device and ETH_P_ALL
        self.closed = False
        self.map = None
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        s = self.sock
        s.setsockopt(SOL_PACKET, PACKET_VERSION, TPACKET_V3)
        try:
            s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
        except OSError:
            pass  # kernel < 4.20; nothing is sent from these netdevs anyway (no addresses, IPv6 off)
        req = struct.pack("7I", BLOCK_SIZE, BLOCK_NR, FRAME_SIZE, BLOCK_SIZE // FRAME_SIZE * BLOCK_NR,
                          RETIRE_TOV_MS, 0, 0)
        s.setsockopt(SOL_PACKET, PACKET_RX_RING, req)
        self.map = mmap.mmap(s.fileno(), BLOCK_SIZE * BLOCK_NR, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)
        self.bound_ns = None
        self.next = 0
        self.frames = 0
        self.blocks = []  # (first_ns, last_ns, n)
        self.first_ns = None
        self.last_ns = None
        if bind:
            try:
                self.bind()
            except OSError:
                self.close()
                raise

    def bind(self):
        self.ifindex = socket.if_nametoindex(self.ifname)
        self.sock.bind((self.ifname, ETH_P_ALL))
        self.bound_ns = now_ns()

    def _block(self, i):
        return i * BLOCK_SIZE

    def first_pkt_ns(self, off):
        first = struct.unpack_from("I", self.map, off + 16)[0]
        sec, nsec = struct.unpack_from("II", self.map, off + first + 4)
        return sec * 1_000_000_000 + nsec

    def walk(self, off, n):
        """Timestamps of the n frames of the block at off."""
        out = []
        p = off + struct.unpack_from("I", self.map, off + 16)[0]
        for _ in range(n):
            nxt, sec, nsec = struct.unpack_from("III", self.map, p)
            out.append(sec * 1_000_000_000 + nsec)
            if nxt == 0:
                break
            p += nxt
        return out

    def drain(self, on_block):
        """Consumes every block the kernel handed over; on_block(ring, first_ns, last_ns, n, off)."""
        got = 0
        while True:
            off = self._block(self.next)
            status = struct.unpack_from("I", self.map, off + 8)[0]
            if not status & TP_STATUS_USER:
                return got
            n = struct.unpack_from("I", self.map, off + 12)[0]
            if n:
                first = self.first_pkt_ns(off)
                sec, nsec = struct.unpack_from("II", self.map, off + 40)
                last = sec * 1_000_000_000 + nsec
                self._account(first, last, n)
                on_block(self, first, last, n, off)
            struct.pack_into("I", self.map, off + 8, TP_STATUS_KERNEL)
            self.next = (self.next + 1) % BLOCK_NR
            got += 1

    def drain_partial(self, on_block):
        """After the netdev is gone: the block the kernel was filling (not retired) is read too."""
        self.drain(on_block)
        off = self._block(self.next)
        status = struct.unpack_from("I", self.map, off + 8)[0]
        n = struct.unpack_from("I", self.map, off + 12)[0]
        if not status & TP_STATUS_USER and n:
            ts = self.walk(off, n)
            if ts:
                self._account(ts[0], ts[-1], len(ts))
                on_block(self, ts[0], ts[-1], len(ts), off)
            struct.pack_into("I", self.map, off + 12, 0)

    def _account(self, first, last, n):
        self.frames += n
        self.blocks.append((first, last, n))
        if self.first_ns is None or first < self.first_ns:
            self.first_ns = first
        if self.last_ns is None or last > self.last_ns:
            self.last_ns = last

    def stats(self):
        try:
            pk, drops, _ = struct.unpack("3I", self.sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 12))
            return {"packets": pk, "drops": drops}
        except OSError:
            return None

    def close(self):
        if not self.closed:
            self.closed = True
            if getattr(self, "map", None) is not None:
                self.map.close()
            self.sock.close()


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


def ifinfo(index=0, flags=0, change=0):
    return struct.pack("BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


def mac_bytes(mac):
    return bytes(int(x, 16) for x in mac.split(":"))


class RtNetlink:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def request(self, what, mtype, flags, body):
        self.seq += 1
        msg = struct.pack("IHHII", 16 + len(body), mtype, flags | NLM_F_REQUEST | NLM_F_ACK, self.seq, 0) + body
        self.sock.send(msg)
        while True:
            data = self.sock.recv(65536)
            off = 0
            while off + 16 <= len(data):
                ln, t, _, seq, _ = struct.unpack_from("IHHII", data, off)
                if t == NLMSG_ERROR and seq == self.seq:
                    err = struct.unpack_from("i", data, off + 16)[0]
                    if err:
                        raise Abort("%s: %s" % (what, os.strerror(-err)))
                    return
                off += (ln + 3) & ~3

    def delete(self, name):
        self.request("delete %s" % name, RTM_DELLINK, 0,
                     ifinfo(socket.if_nametoindex(name)) + nla(IFLA_IFNAME, name.encode() + b"\0"))

    def add_veth(self, a, mac_a, b, mac_b):
        peer = ifinfo() + nla(IFLA_IFNAME, b.encode() + b"\0") + nla(IFLA_ADDRESS, mac_bytes(mac_b))
        info = nla(IFLA_INFO_KIND, b"veth\0") + nla(IFLA_INFO_DATA | NLA_F_NESTED, nla(VETH_INFO_PEER, peer))
        body = (ifinfo() + nla(IFLA_IFNAME, a.encode() + b"\0") + nla(IFLA_ADDRESS, mac_bytes(mac_a))
                + nla(IFLA_LINKINFO | NLA_F_NESTED, info))
        self.request("create veth %s/%s" % (a, b), RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)

    def up(self, name):
        self.request("set %s up" % name, RTM_NEWLINK, 0, ifinfo(socket.if_nametoindex(name), IFF_UP, IFF_UP))


def alive(pid):
    """pid runs and is not a zombie (an exited child its parent has not reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def check_netns(ns):
    """Refuses to act unless this process is in network namespace ns (ip netns exec ns ...)."""
    try:
        want = os.stat("/run/netns/%s" % ns)
        have = os.stat("/proc/self/ns/net")
    except OSError as e:
        raise Abort("cannot check the network namespace: %s" % e)
    if (want.st_dev, want.st_ino) != (have.st_dev, have.st_ino):
        raise Abort("not running in network namespace %s (use ip netns exec)" % ns)


class Probe:
    def __init__(self, a):
        self.a = a
        self.events = []
        self.timeline = []
        self.rings = []
        self.b = None
        self.tap = None
        self.t_del = None
        self.tap_first_after_del = None
        self.tap_frames_before_del = 0
        self.tap_last_before_del = None
        self.b_first_after_up = None
        self.b_gen = 0
        self.stats = {}

    def event(self, what, t=None, **kw):
        t = now_ns() if t is None else t
        self.events.append(dict({"t": t, "event": what}, **kw))
        self.timeline.append("%d event %s %s" % (t, what, json.dumps(kw) if kw else ""))

    def on_block(self, ring, first, last, n, off):
        self.timeline.append("%d block %s gen=%d first=%d last=%d n=%d"
                             % (now_ns(), ring.label, ring.gen, first, last, n))
        if ring.label == "tap" and self.t_del is not None and last >= self.t_del:
            if self.tap_first_after_del is None:
                if first >= self.t_del:
                    self.tap_first_after_del = first
                else:  # the block straddles t_del: find the first frame at or after it
                    ts = ring.walk(off, n)
                    after = [t for t in ts if t >= self.t_del]
                    self.tap_first_after_del = after[0] if after else None
                    self.tap_frames_before_del += len(ts) - len(after)
        elif ring.label == "tap":
            self.tap_frames_before_del += n
            self.tap_last_before_del = last
        if ring.label == "b" and ring.gen > 0:
            if self.b_first_after_up is None or first < self.b_first_after_up:
                self.b_first_after_up = first

    def pump(self):
        for r in self.rings:
            if not r.closed:
                r.drain(self.on_block)

    def wait(self, seconds, until=None):
        """Keeps draining the rings for up to seconds; stops early when until() is true."""
        end = time.monotonic() + seconds
        while True:
            self.pump()
            if until is not None and until():
                return True
            if time.monotonic() >= end:
                return False
            if self.a.watch_pid and not alive(self.a.watch_pid):
                raise Abort("the port process exited")
            time.sleep(0.0005)


    def bind_tap(self):
        if self.tap is None:
            try:
                self.tap = Ring("tap", self.a.tap, 0)
            except OSError:
                return False
            self.rings.append(self.tap)
            self.event("tap_bound", ifindex=self.tap.ifindex)
        return True

    def run(self):
        a = self.a
        check_netns(a.ns)
        nl = RtNetlink()
        self.b = Ring("b", a.b, 0)
        self.rings.append(self.b)
        self.event("b_bound", ifindex=self.b.ifindex)
        start = time.monotonic()
        # 1. the port is up: the TAP exists and frames arrive on B
        if not self.wait(a.start_timeout, lambda: self.bind_tap() and self.b.frames > 0):
            raise Abort("the port did not start within %d s (%s)" % (
                a.start_timeout, "no TAP %s" % a.tap if self.tap is None else "no frames on %s" % a.b))
        self.event("traffic_on_b", after_s=round(time.monotonic() - start, 3))
        b0_frames, b0_t = self.b.frames, self.b.last_ns
        self.wait(a.steady)
        self.stats["b_before"] = self.b.stats()
        steady_mpps = None
        if self.b.last_ns and b0_t and self.b.last_ns > b0_t:
            steady_mpps = (self.b.frames - b0_frames) / ((self.b.last_ns - b0_t) / 1e9) / 1e6
        tap_before = self.tap_frames_before_del
        # 2. unplug
        self.t_del = now_ns()
        self.event("del_start")
        nl.delete(a.a)
        t_del_done = now_ns()
        self.event("del_done")
        # 3. failover?
        self.wait(0.05)  # lets the last block of B retire
        self.b.drain_partial(self.on_block)
        b_last = self.b.last_ns
        b_frames_old = self.b.frames
        self.stats["b_old"] = self.b.stats()
        failed_over = self.wait(a.failover_timeout, lambda: self.tap_first_after_del is not None)
        self.stats["tap_until_failover"] = self.tap.stats()
        self.event("failover" if failed_over else "no_failover")
        tap_frames_at_failover = self.tap.frames
        self.wait(a.hold)
        tap_rate = None
        if failed_over and self.tap.last_ns and self.tap.last_ns > self.tap_first_after_del:
            n_after = self.tap.frames - self.tap_frames_before_del
            tap_rate = n_after / ((self.tap.last_ns - self.tap_first_after_del) / 1e9) / 1e6
        self.b.close()
        # 4. plug back in: same names and MACs; bind to the new B before anything is up
        self.b_gen += 1
        self.b = Ring("b", a.b, self.b_gen, bind=False)
        self.rings.append(self.b)
        t_add = now_ns()
        self.event("add_start")
        nl.add_veth(a.a, a.mac_a, a.b, a.mac_b)
        self.b.bind()
        self.event("b_rebound", ifindex=self.b.ifindex)
        nl.up(a.b)
        nl.up(a.a)
        t_up = now_ns()
        self.event("up_done")
        tap_frames_at_up = self.tap.frames
        returned = self.wait(a.return_timeout, lambda: self.b_first_after_up is not None)
        self.event("returned" if returned else "no_return")
        tap_last_at_return = self.tap.last_ns
        b1_frames = self.b.frames
        self.wait(a.hold)
        b_after_rate = None
        if returned and self.b.last_ns and self.b.last_ns > self.b_first_after_up:
            b_after_rate = self.b.frames / ((self.b.last_ns - self.b_first_after_up) / 1e9) / 1e6
        for r in self.rings:
            if not r.closed:
                r.drain(self.on_block)
        self.stats["tap"] = self.tap.stats()
        self.stats["b_new"] = self.b.stats()
        # by frame time, not by when the blocks were read: TAP frames later than the first frame on
        # the new B (a block that straddles that moment counts whole), and the last TAP frame
        tap_after_return = None
        switch_back = None
        if returned:
            tap_after_return = sum(n for f, l, n in self.tap.blocks if l > self.b_first_after_up)
            if failed_over and self.tap.last_ns:
                switch_back = self.b_first_after_up - self.tap.last_ns

        ms = lambda ns: None if ns is None else round(ns / 1e6, 3)
        res = {
            "failedOver": failed_over,
            "returned": returned,
            "gapMs": ms(self.tap_first_after_del - b_last) if failed_over and b_last else None,
            "detectMs": ms(self.tap_first_after_del - self.t_del) if failed_over else None,
            "lastBBeforeDelMs": ms(self.t_del - b_last) if b_last else None,
            "delCommandMs": ms(t_del_done - self.t_del),
            "returnMs": ms(self.b_first_after_up - t_up) if returned else None,
            "returnFromAddMs": ms(self.b_first_after_up - t_add) if returned else None,
            "addToUpMs": ms(t_up - t_add),
            "switchBackMs": ms(switch_back),
            "tapFramesBeforeUnplug": tap_before,
            "tapFramesAfterUnplug": tap_frames_at_failover - self.tap_frames_before_del if failed_over else 0,
            "tapFramesUntilUp": tap_frames_at_up - self.tap_frames_before_del,
            "tapFramesAfterReturn": tap_after_return,
            "tapFramesTotal": self.tap.frames,
            "bFramesBeforeUnplug": b_frames_old,
            "bFramesAfterReturn": self.b.frames,
            "bFramesAtReturnCheck": b1_frames,
            "bSteadyMpps": round(steady_mpps, 4) if steady_mpps else None,
            "tapMppsAfterFailover": round(tap_rate, 4) if tap_rate else None,
            "bMppsAfterReturn": round(b_after_rate, 4) if b_after_rate else None,
            "ringStats": self.stats,
            "timesNs": {"tDel": self.t_del, "tDelDone": t_del_done, "lastB": b_last,
                        "firstTapAfterDel": self.tap_first_after_del, "tAdd": t_add, "tUp": t_up,
                        "firstBAfterUp": self.b_first_after_up, "lastTapBeforeReturn": tap_last_at_return},
            "params": {"steadyS": a.steady, "failoverTimeoutS": a.failover_timeout, "holdS": a.hold,
                       "returnTimeoutS": a.return_timeout, "ringBlocks": BLOCK_NR, "blockBytes": BLOCK_SIZE,
                       "retireTovMs": RETIRE_TOV_MS, "clock": "CLOCK_REALTIME (kernel frame timestamps)"},
            "events": self.events,
        }
        drops = sum((s or {}).get("drops", 0) for s in self.stats.values())
        if drops:
            res["ringDrops"] = drops
        return res


class Abort(Exception):
    pass


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ns", required=True)
    p.add_argument("--a", required=True, help="veth A (the port's preferred sub-device)")
    p.add_argument("--b", required=True, help="veth B (kernel-side peer, observed)")
    p.add_argument("--tap", required=True, help="the TAP netdev the port creates (observed)")
    p.add_argument("--mac-a", required=True)
    p.add_argument("--mac-b", required=True)
    p.add_argument("--watch-pid", type=int, default=0, help="abort when this process is gone")
    p.add_argument("--start-timeout", type=float, default=60)
    p.add_argument("--steady", type=float, default=2)
    p.add_argument("--failover-timeout", type=float, default=3)
    p.add_argument("--hold", type=float, default=1)
    p.add_argument("--return-timeout", type=float, default=3)
    p.add_argument("--out", required=True)
    p.add_argument("--timeline", required=True)
    a = p.parse_args()
    probe = Probe(a)
    rc = 0
    try:
        res = probe.run()
    except (Abort, OSError) as e:
        res = {"error": str(e), "events": probe.events}
        rc = 1
    finally:
        for r in probe.rings:
            r.close()
        with open(a.timeline, "w") as f:
            f.write("\n".join(probe.timeline) + "\n")
    with open(a.out, "w") as f:
        json.dump(res, f, indent=2)
    return rc


if __name__ == "__main__":
    sys.exit(main())
