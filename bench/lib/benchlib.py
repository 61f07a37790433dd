#!/usr/bin/env python3
"""Parsers and the report for bench/run.sh (stdlib only).

Every case run (one side, one run) ends as a result JSON:
  {"case": "null_io", "side": "hyperlane"|"dpdk", "run": 1, "ok": true,
   "metrics": {"rx_mpps": {"value": 123.4, "unit": "Mpps", "better": "higher", ...}},
   "memory": "...", "notes": ["..."], "error": "..." (when not ok),
   "unavailable": "why" (DPDK side that cannot run)}
A metric may have no number but an outcome instead ("value": null, "outcome": "did not fail over",
"outcomeDetail": "..."): the run worked and the event measured never happened; the report shows the
outcome in place of the figure and names it instead of a ratio.
`report` gathers them into the Markdown table and the results JSON.

Subcommands (all print JSON on stdout unless said otherwise):
  testpmd-stats FILE                   Rx-pps samples of testpmd-style output, summed over ports
  null-io SIDE RUN STDOUT [SUMMARY]    result for case null_io (SUMMARY: Hyperlane --summary-json)
  null-io-case CASE SIDE RUN STDOUT [SUMMARY]
                                       the same parse for another case (failsafe_null_io)
  failover CASE SIDE RUN PROBEJSON STDOUT [SUMMARY]
                                       result for failsafe_failover (bench/lib/failover_probe.py)
  ringperf FILE                        ring_perf_autotest single-lcore bulk 32 figures
  mpbench FILE                         bench/dpdk/mpbench lines
  kio-tx CASE SIDE RUN STDOUT COUNTERS DEV [SUMMARY]
                                       result for tap_tx / af_packet_tx (kernel rx counter of DEV)
  kio-rx CASE SIDE RUN STDOUT GENSTDOUT COUNTERS tap|af_packet RXDEV GENDEV [SUMMARY]
                                       result for tap_rx / af_packet_rx (the port's Rx-pps)
  cut SRC BYTES DST                    the first BYTES of SRC, up to its last complete line, into DST
  vhost CASE SIDE RUN VHOSTOUT VIRTIOOUT VHOSTSUM VIRTIOSUM VHOSTIMPL VIRTIOIMPL [VHOSTMEM VIRTIOMEM]
                                       result for vhost_v2h / vhost_h2v / vhost_rt (bench/lib/vhost.sh)
  micro-hyperlane RUN BDNJSON          result for case micro, Hyperlane side
  micro-dpdk RUN RINGPERF MPBENCH MEM  result for case micro, DPDK side
  edit FILE note MSG | set KEY VALUE   add a note to / set a field of a result file in place
  finalize FILE CASE SIDE RUN RC       make FILE a complete result (fields, error when no figure)
  failed CASE SIDE RUN MESSAGE         a result that says the run failed
  unavailable CASE SIDE RUN MESSAGE    a result that says this side cannot run here
  report RUNSDIR META OUTJSON          Markdown on stdout, full results in OUTJSON
"""

import json
import math
import re
import statistics
import sys

TSC_MHZ_FALLBACK = 2596.0


def die(msg):
    print("benchlib: " + msg, file=sys.stderr)
    sys.exit(2)


def read(path):
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        return f.read()


def median(xs):
    return statistics.median(xs) if xs else None


# ----------------------------------------------------------------------------------------------
# testpmd-style stats ("Port statistics ====" blocks with one "Rx-pps:" line per port)

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
RX_PPS = re.compile(r"^\s*Rx-pps:\s+(\d+)", re.M)
TX_PPS = re.compile(r"^\s*Tx-pps:\s+(\d+)", re.M)


PORT_HDR = re.compile(r"NIC statistics for port\s+(\d+)")


def testpmd_samples(text):
    """One sample per stats display: the sum over ports of Rx-pps (and Tx-pps), in Mpps.

    A display is a run of "NIC statistics for port N" blocks, each with one "Rx-pps:" and one
    "Tx-pps:" line. testpmd starts each display with "Port statistics ====" (after a clear-screen
    escape); Hyperlane prints the port blocks alone. So a new display starts at that header, or
    at a port block whose port was already seen in the current display. Displays with fewer ports
    than the most complete one (a run cut in the middle of printing) are dropped.
    """
    text = ANSI.sub("", text)
    displays = []
    cur = None
    port = None
    for line in text.splitlines():
        if "Port statistics ====" in line:
            cur = {}
            displays.append(cur)
            port = None
            continue
        m = PORT_HDR.search(line)
        if m:
            port = int(m.group(1))
            if cur is None or port in cur:
                cur = {}
                displays.append(cur)
            cur[port] = {}
            continue
        if cur is None or port is None:
            continue
        m = RX_PPS.match(line)
        if m:
            cur[port].setdefault("rx", int(m.group(1)))
            continue
        m = TX_PPS.match(line)
        if m:
            cur[port].setdefault("tx", int(m.group(1)))
    blocks = [d for d in displays if d and all("rx" in v for v in d.values())]
    if not blocks:
        return {"ports": 0, "samples": [], "txSamples": []}
    ports = max(len(d) for d in blocks)
    full = [d for d in blocks if len(d) == ports]
    return {
        "ports": ports,
        "samples": [sum(v["rx"] for v in d.values()) / 1e6 for d in full],
        "txSamples": [sum(v.get("tx", 0) for v in d.values()) / 1e6 for d in full],
    }


def summarize_samples(s):
    """Median over samples, skipping the first (testpmd's first show has no previous sample, and
    the forwarding lcore is still warming up). With a single sample, that one is used."""
    samples = s["samples"]
    used = samples[1:] if len(samples) > 1 else samples
    tx = s["txSamples"][1:] if len(s["txSamples"]) > 1 else s["txSamples"]
    return {
        "medianMpps": median(used),
        "minMpps": min(used) if used else None,
        "maxMpps": max(used) if used else None,
        "txMedianMpps": median(tx),
        "samplesUsed": len(used),
        "samplesTotal": len(samples),
        "ports": s["ports"],
        "samples": [round(x, 3) for x in samples],
    }


def cmd_testpmd_stats(path):
    return summarize_samples(testpmd_samples(read(path)))


def cmd_null_io(side, run, stdout_path, summary_path=None, case="null_io"):
    st = summarize_samples(testpmd_samples(read(stdout_path)))
    res = {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": []}
    if st["medianMpps"] is None:
        res["error"] = "no stats samples with Rx-pps in the output"
        return res
    detail = dict(st)
    if summary_path:
        try:
            js = json.loads(read(summary_path))
            total = js.get("total", {})
            detail["jsonTotalRxMpps"] = total.get("rxMpps")
            detail["jsonTotalTxMpps"] = total.get("txMpps")
            detail["jsonDurationSeconds"] = js.get("durationSeconds")
            detail["jsonPorts"] = [
                {k: p.get(k) for k in ("port", "name", "rxPackets", "txPackets", "rxMpps", "txMpps",
                                       "rxMissed", "rxErrors", "rxNoMbuf", "txErrors", "fwdDrops")}
                for p in js.get("ports", [])]
            res["memory"] = js.get("memory")
            res["lcores"] = js.get("lcores")
            res["burst"] = js.get("burst")
            jr = total.get("rxMpps")
            if isinstance(jr, (int, float)) and jr > 0:
                ratio = st["medianMpps"] / jr
                detail["statsOverJson"] = round(ratio, 3)
                # The JSON figure is the whole-run average (start-up included); the stats median
                # skips the first sample, so it is normally a little higher.
                if ratio < 0.7 or ratio > 1.5:
                    res["notes"].append(
                        "cross-check: stats median %.2f Mpps vs JSON total.rxMpps %.2f Mpps (x%.2f)"
                        % (st["medianMpps"], jr, ratio))
            else:
                res["notes"].append("summary JSON has no total.rxMpps")
            sum_ports = sum(p.get("rxMpps") or 0 for p in js.get("ports", []))
            if jr and abs(sum_ports - jr) > 0.01 * max(jr, 1e-9) + 0.01:
                res["notes"].append("JSON total.rxMpps %.3f != sum of ports %.3f" % (jr, sum_ports))
        except (OSError, ValueError) as e:
            res["notes"].append("summary JSON unreadable: %s" % e)
    res["metrics"]["rx_mpps"] = {
        "value": st["medianMpps"], "unit": "Mpps", "better": "higher",
        "label": "Rx Mpps, sum of both ports", "detail": detail}
    res["ok"] = True
    return res


# ----------------------------------------------------------------------------------------------
# kernel-bound cases (tap_tx, tap_rx, af_packet_tx, af_packet_rx; bench/lib/kernel_io.sh)

SAMPLE_MAX_SPREAD = 0.1  # s: a counter dump that took longer has no precise time; dropped


def read_counters(path, skipped=None):
    """The netns sampler's lines "<epoch s before> <epoch s after> <ip -s -j link show JSON>" (or
    the older "<epoch s> <JSON>") as
    {ifname: [(t, {"rx_packets": .., "rx_dropped": .., "tx_packets": .., "tx_dropped": ..}), ...]},
    t the middle of the dump. Dumps that took more than SAMPLE_MAX_SPREAD s are dropped (counted
    in skipped["slow"] when a dict is given): their counters belong to an unknown moment."""
    out = {}
    try:
        text = read(path)
    except OSError:
        return out
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) < 2:
            continue
        try:
            t = float(parts[0])
            if len(parts) == 3 and re.match(r"^[0-9.]+$", parts[1]):
                t1 = float(parts[1])
                if t1 - t > SAMPLE_MAX_SPREAD:
                    if skipped is not None:
                        skipped["slow"] = skipped.get("slow", 0) + 1
                    continue
                t = (t + t1) / 2
                links = json.loads(parts[2])
            else:
                links = json.loads(line.split(" ", 1)[1])
        except ValueError:
            continue
        for link in links:
            st = link.get("stats64") or link.get("stats") or {}
            rx, tx = st.get("rx", {}), st.get("tx", {})
            out.setdefault(link.get("ifname"), []).append((t, {
                "rx_packets": rx.get("packets", 0), "rx_dropped": rx.get("dropped", 0),
                "tx_packets": tx.get("packets", 0), "tx_dropped": tx.get("dropped", 0),
                "up": "UP" in link.get("flags", [])}))
    return out


def counter_rate(series, key):
    """Rate of one counter over the steady part of a run: the samples span start-up and the end,
    so the first and the last sampling interval in which the counter moved (both partial) are
    dropped, and the figure is (counter at the end of the window - at its start) / time.
    Also gives the median of the per-interval rates inside that window."""
    if len(series) < 2:
        return None
    moving = [i for i in range(len(series) - 1) if series[i + 1][1][key] > series[i][1][key]]
    if not moving:
        return {"mpps": 0.0, "windowSeconds": series[-1][0] - series[0][0], "intervals": 0,
                "medianIntervalMpps": 0.0, "trimmed": False}
    first, last = moving[0], moving[-1]
    start, end, trimmed = first + 1, last, True
    if end <= start:  # too short to trim: use every interval in which it moved
        start, end, trimmed = first, last + 1, False
    (t0, c0), (t1, c1) = series[start], series[end]
    rates = [(series[i + 1][1][key] - series[i][1][key]) / (series[i + 1][0] - series[i][0]) / 1e6
             for i in range(start, end) if series[i + 1][0] > series[i][0]]
    return {"mpps": (c1[key] - c0[key]) / (t1 - t0) / 1e6 if t1 > t0 else None,
            "windowSeconds": round(t1 - t0, 3), "intervals": end - start,
            "medianIntervalMpps": round(median(rates), 4) if rates else None, "trimmed": trimmed,
            "packets": c1[key] - c0[key], "startIndex": start, "endIndex": end}


def window_delta(series, rate, key):
    """Delta of counter KEY over the window counter_rate chose."""
    if not rate or "startIndex" not in rate:
        return None
    return series[rate["endIndex"]][1][key] - series[rate["startIndex"]][1][key]


def counter_delta(series, key):
    if not series:
        return None
    return series[-1][1][key] - series[0][1][key]


def active_samples(samples, txs=None):
    """Samples once traffic flows: leading samples under 1% of the largest are idle (the port was
    up before the generator), then the first active one is skipped (partial). With one active
    sample, that one is used."""
    if not samples:
        return [], []
    txs = txs if txs is not None else [0.0] * len(samples)
    peak = max(samples)
    i = 0
    while i < len(samples) and (samples[i] <= 0.01 * peak or peak <= 0):
        i += 1
    act, acttx = samples[i:], txs[i:]
    if len(act) > 1:
        return act[1:], acttx[1:]
    return act, acttx


def read_summary(res, summary_path):
    if not summary_path:
        return None
    try:
        js = json.loads(read(summary_path))
    except (OSError, ValueError) as e:
        res["notes"].append("summary JSON unreadable: %s" % e)
        return None
    res["memory"] = js.get("memory")
    res["lcores"] = js.get("lcores")
    res["burst"] = js.get("burst")
    return js


def cmd_kio_tx(case, side, run, stdout_path, counters_path, dev, summary_path=None):
    res = {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": []}
    try:
        st = testpmd_samples(read(stdout_path))
    except OSError:
        st = {"ports": 0, "samples": [], "txSamples": []}
    tx = st["txSamples"]
    tx_used = tx[1:] if len(tx) > 1 else tx
    skipped = {}
    series = read_counters(counters_path, skipped).get(dev, [])
    rate = counter_rate(series, "rx_packets")
    if skipped.get("slow"):
        res["notes"].append("%d kernel counter sample(s) dropped: the dump took > %.1f s"
                            % (skipped["slow"], SAMPLE_MAX_SPREAD))
    js = read_summary(res, summary_path)
    port_tx = median(tx_used)
    detail = {"device": dev, "counterSamples": len(series), "window": rate,
              "kernelRxDropped": counter_delta(series, "rx_dropped"),
              "portTxSamples": [round(x, 4) for x in tx],
              "portTxMedianMpps": port_tx}
    if js:
        detail["jsonTotalTxMpps"] = js.get("total", {}).get("txMpps")
        detail["jsonTxPackets"] = js.get("total", {}).get("txPackets")
        detail["jsonPorts"] = [{k: p.get(k) for k in ("port", "name", "txPackets", "txErrors", "txMpps")}
                               for p in js.get("ports", [])]
    if not series:
        res["error"] = "netdev %s never appeared in the namespace (the port did not start)" % dev
        return res
    if not st["samples"]:
        res["error"] = "no stats output from the port (it did not start)"
        return res
    if rate is None or rate["mpps"] is None:
        res["error"] = "fewer than 2 counter samples of %s" % dev
        return res
    if rate["mpps"] == 0:
        res["notes"].append("kernel rx counter of %s did not move" % dev)
    res["metrics"]["kernel_rx_mpps"] = {
        "value": rate["mpps"], "unit": "Mpps", "better": "higher",
        "label": "kernel rx counter of the %s, delta / time" % ("TAP netdev" if case.startswith("tap") else "veth peer"),
        "detail": detail}
    if port_tx is not None:
        res["metrics"]["port_tx_mpps"] = {
            "value": port_tx, "unit": "Mpps", "better": "higher",
            "label": "cross-check: the port's Tx-pps (testpmd stats, median, first skipped)",
            "detail": {"samples": [round(x, 4) for x in tx]}}
        if port_tx > 0 and rate["mpps"] > 0 and abs(rate["mpps"] / port_tx - 1) > 0.15:
            res["notes"].append("cross-check: kernel rx %.3f Mpps vs port Tx-pps %.3f Mpps (x%.2f)"
                                % (rate["mpps"], port_tx, rate["mpps"] / port_tx))
    else:
        res["notes"].append("no Tx-pps samples in the port's output")
    res["ok"] = True
    return res


def cmd_kio_rx(case, side, run, stdout_path, gen_stdout_path, counters_path, kind, rxdev, gendev,
               summary_path=None):
    res = {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": []}
    try:
        st = testpmd_samples(read(stdout_path))
    except OSError:
        st = {"ports": 0, "samples": [], "txSamples": []}
    try:
        gst = testpmd_samples(read(gen_stdout_path))
    except OSError:
        gst = {"ports": 0, "samples": [], "txSamples": []}
    used, _ = active_samples(st["samples"])
    gen_used, _ = active_samples(gst["txSamples"])
    skipped = {}
    counters = read_counters(counters_path, skipped)
    rxs, gens = counters.get(rxdev, []), counters.get(gendev, [])
    detail = {"samples": [round(x, 4) for x in st["samples"]], "samplesUsed": len(used),
              "minMpps": min(used) if used else None, "maxMpps": max(used) if used else None,
              "generatorTxSamples": [round(x, 4) for x in gst["txSamples"]],
              "generatorTxMedianMpps": median(gen_used),
              "slowCounterSamplesDropped": skipped.get("slow", 0)}
    if kind == "tap":
        # the kernel transmits the generator's packets to the TAP's queue (netdev tx); what the
        # reader did not take in time is dropped there (tx_dropped)
        rate = counter_rate(gens, "tx_packets")
        detail["tapTxRate"] = rate
        detail["tapTxPackets"] = window_delta(gens, rate, "tx_packets")
        detail["tapTxDropped"] = window_delta(gens, rate, "tx_dropped")
        detail["tapTxDroppedWholeRun"] = counter_delta(gens, "tx_dropped")
        if rate and rate.get("windowSeconds") and detail["tapTxDropped"] is not None:
            # what the generator offered to the TAP queue: taken by the reader + dropped there
            detail["tapOfferedMpps"] = round((detail["tapTxPackets"] + detail["tapTxDropped"])
                                             / rate["windowSeconds"] / 1e6, 4)
    else:
        detail["peerTxPackets"] = counter_delta(gens, "tx_packets")
        detail["veth%sRxPackets" % "A"] = counter_delta(rxs, "rx_packets")
        detail["vethARxDropped"] = counter_delta(rxs, "rx_dropped")
    js = read_summary(res, summary_path)
    if js:
        detail["jsonTotalRxMpps"] = js.get("total", {}).get("rxMpps")
        detail["jsonRxPackets"] = js.get("total", {}).get("rxPackets")
        detail["jsonDurationSeconds"] = js.get("durationSeconds")
        detail["jsonPorts"] = [{k: p.get(k) for k in ("port", "name", "rxPackets", "rxMissed", "rxErrors",
                                                       "rxNoMbuf", "rxMpps")} for p in js.get("ports", [])]
    if not used:
        res["error"] = "no Rx-pps samples in the receiving port's output"
        return res
    res["metrics"]["rx_mpps"] = {
        "value": median(used), "unit": "Mpps", "better": "higher",
        "label": "receiving port's Rx-pps (median of samples once traffic flows, first skipped)",
        "detail": detail}
    if gen_used:
        res["metrics"]["gen_tx_mpps"] = {
            "value": median(gen_used), "unit": "Mpps", "better": "higher",
            "label": "cross-check: the generator's Tx-pps (DPDK af_packet txonly, same for both sides)",
            "detail": {"samples": [round(x, 4) for x in gst["txSamples"]]}}
    else:
        res["notes"].append("no Tx-pps samples in the generator's output")
    if kind == "tap" and detail.get("tapTxDropped"):
        res["notes"].append("TAP queue drops (tx_dropped of %s) while traffic flowed: %d packets in %.1f s"
                            % (gendev, detail["tapTxDropped"], detail["tapTxRate"]["windowSeconds"]))
    res["ok"] = True
    return res


# ----------------------------------------------------------------------------------------------
# failsafe_failover (bench/cases/failsafe_failover.sh, observer bench/lib/failover_probe.py)

FAILOVER_LOG = re.compile(r"(net_failsafe|fs_|sub_device|sub-device|hot.?plug)", re.I)


def cmd_failover(case, side, run, probe_path, stdout_path, summary_path=None):
    res = {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": []}
    try:
        pr = json.loads(read(probe_path))
    except (OSError, ValueError) as e:
        res["error"] = "the observer wrote no result: %s" % e
        return res
    log = []
    for path in (stdout_path, stdout_path.replace("stdout.txt", "stderr.txt")):
        try:
            log += [ANSI.sub("", l).strip() for l in read(path).splitlines() if FAILOVER_LOG.search(l)]
        except OSError:
            pass
    read_summary(res, summary_path)
    if pr.get("error"):
        res["error"] = "observer: " + pr["error"]
        res["portLog"] = log[:20]
        return res
    params = pr.get("params", {})
    fo_to, ret_to = params.get("failoverTimeoutS"), params.get("returnTimeoutS")
    fwd = None
    try:  # testpmd's final "Forward statistics for port 0" block (the last one printed)
        blocks = re.findall(r"Forward statistics for port 0.*?TX-packets:\s+(\d+)\s+TX-dropped:\s+(\d+)",
                            ANSI.sub("", read(stdout_path)), re.S)
        if blocks:
            fwd = {"txPackets": int(blocks[-1][0]), "txDropped": int(blocks[-1][1])}
    except OSError:
        pass
    detail = {k: pr.get(k) for k in (
        "gapMs", "detectMs", "lastBBeforeDelMs", "delCommandMs", "returnMs", "returnFromAddMs",
        "addToUpMs", "switchBackMs", "tapFramesBeforeUnplug", "tapFramesAfterUnplug", "tapFramesUntilUp",
        "tapFramesAfterReturn", "bFramesBeforeUnplug", "bFramesAfterReturn", "bSteadyMpps",
        "tapMppsAfterFailover", "bMppsAfterReturn", "ringStats", "timesNs", "params")}
    detail["portLog"] = log[:20]
    detail["portForwardStats"] = fwd
    gap = {"unit": "ms", "better": "lower",
           "label": "failover gap: last frame on veth B -> first frame on the TAP, after veth A is deleted",
           "detail": detail}
    if pr.get("failedOver"):
        gap["value"] = pr["gapMs"]
    else:
        gap["value"] = None
        gap["outcome"] = "did not fail over"
        gap["outcomeDetail"] = "no frame on the TAP within %g s of deleting veth A" % fo_to
    ret = {"unit": "ms", "better": "lower",
           "label": "return time: veth pair re-created and up -> first frame on veth B",
           "detail": {k: pr.get(k) for k in ("returnMs", "returnFromAddMs", "addToUpMs", "switchBackMs",
                                             "bMppsAfterReturn", "tapFramesAfterReturn")}}
    if pr.get("returned"):
        ret["value"] = pr["returnMs"]
    else:
        ret["value"] = None
        ret["outcome"] = "did not return"
        ret["outcomeDetail"] = "no frame on the re-created veth B within %g s" % ret_to
    det = {"unit": "ms", "better": "lower",
           "label": "unplug -> first frame on the TAP (from the delete request for veth A)",
           "detail": {k: pr.get(k) for k in ("detectMs", "delCommandMs", "lastBBeforeDelMs", "tapMppsAfterFailover")}}
    if pr.get("failedOver"):
        det["value"] = pr["detectMs"]
    else:
        det["value"] = None
        det["outcome"] = gap["outcome"]
        det["outcomeDetail"] = gap["outcomeDetail"]
    res["metrics"]["failover_gap_ms"] = gap
    res["metrics"]["unplug_to_tap_ms"] = det
    res["metrics"]["return_ms"] = ret
    stall = pr.get("lastBBeforeDelMs")
    if isinstance(stall, (int, float)) and stall > 50:
        res["notes"].append("the port had sent nothing to veth B for %.0f ms when veth A was deleted (a stall "
                            "before the unplug, not failover time; the gap includes it, unplug->TAP does not)"
                            % stall)
    if not pr.get("bFramesBeforeUnplug"):
        res["notes"].append("no frames on veth B before the unplug")
    if pr.get("tapFramesBeforeUnplug"):
        res["notes"].append("%d frame(s) on the TAP before veth A was deleted (the fallback should be idle)"
                            % pr["tapFramesBeforeUnplug"])
    if pr.get("ringDrops"):
        res["notes"].append("the observer's rings dropped %d frame(s) (boundary times may be late)"
                            % pr["ringDrops"])
    if pr.get("returned") and pr.get("failedOver") and pr.get("tapFramesAfterReturn"):
        res["notes"].append("about %d frame(s) on the TAP after the first frame on the re-created veth B "
                            "(the last %.1f ms after it)" % (pr["tapFramesAfterReturn"], -(pr.get("switchBackMs") or 0)))
    res["ok"] = True
    return res


# ----------------------------------------------------------------------------------------------
# vhost-user loopback (bench/lib/vhost.sh: vhost_v2h, vhost_h2v, vhost_rt)

VHOST_CASES = {
    # receiver: the process whose Rx-pps is the figure; sender: whose Tx-pps is the cross-check
    "vhost_v2h": {"receiver": "vhost", "sender": "virtio",
                  "label": "net_vhost Rx Mpps (virtio_user txonly -> net_vhost rxonly)",
                  "xlabel": "cross-check: virtio_user Tx-pps (txonly, what entered the ring)"},
    "vhost_h2v": {"receiver": "virtio", "sender": "vhost",
                  "label": "virtio_user Rx Mpps (net_vhost txonly -> virtio_user rxonly)",
                  "xlabel": "cross-check: net_vhost Tx-pps (txonly, what was enqueued)"},
    "vhost_rt": {"receiver": "virtio", "sender": "virtio",
                 "label": "packets returned to virtio_user, Rx Mpps (virtio_user flowgen -> net_vhost macswap -> virtio_user)",
                 "xlabel": "cross-check: virtio_user Tx-pps (flowgen, offered)"},
}

VHOST_IMPL = {"hyperlane": "Hyperlane", "dpdk": "DPDK"}


def cmd_vhost(case, side, run, vhost_out, virtio_out, vhost_summary, virtio_summary, vhost_impl,
              virtio_impl, vhost_mem="", virtio_mem=""):
    """Result of one vhost loopback run. VHOST_OUT / VIRTIO_OUT: the stdout of the two testpmds (the
    non-receiver's cut when the receiver was stopped); summaries '-' when absent (DPDK)."""
    cfg = VHOST_CASES[case]
    res = {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": [],
           "pairing": {"virtio_user": virtio_impl, "net_vhost": vhost_impl}}
    st = {}
    for role, path in (("vhost", vhost_out), ("virtio", virtio_out)):
        try:
            st[role] = testpmd_samples(read(path))
        except OSError:
            st[role] = {"ports": 0, "samples": [], "txSamples": []}
    summaries = {}
    for role, path in (("vhost", vhost_summary), ("virtio", virtio_summary)):
        if path and path != "-":
            try:
                summaries[role] = json.loads(read(path))
            except (OSError, ValueError) as e:
                res["notes"].append("%s summary JSON unreadable: %s" % (role, e))
    mems = {}
    for role, impl, dmem in (("virtio", virtio_impl, virtio_mem), ("vhost", vhost_impl, vhost_mem)):
        if impl == "hyperlane":
            mems[role] = "Hyperlane %s" % ((summaries.get(role) or {}).get("memory") or "?")
        else:
            mems[role] = "DPDK %s" % (dmem or "?")
    res["memory"] = "virtio_user: %s; net_vhost: %s" % (mems["virtio"], mems["vhost"])
    rx_used, _ = active_samples(st[cfg["receiver"]]["samples"])
    tx_used, _ = active_samples(st[cfg["sender"]]["txSamples"])
    detail = {"receiver": cfg["receiver"], "samplesUsed": len(rx_used),
              "minMpps": min(rx_used) if rx_used else None, "maxMpps": max(rx_used) if rx_used else None}
    for role in ("vhost", "virtio"):
        detail[role + "RxSamples"] = [round(x, 4) for x in st[role]["samples"]]
        detail[role + "TxSamples"] = [round(x, 4) for x in st[role]["txSamples"]]
        js = summaries.get(role)
        if js:
            detail[role + "Json"] = {"durationSeconds": js.get("durationSeconds"), "memory": js.get("memory"),
                                     "lcores": js.get("lcores"), "burst": js.get("burst"),
                                     "ports": [{k: p.get(k) for k in (
                                         "name", "rxPackets", "txPackets", "rxMissed", "rxErrors", "rxNoMbuf",
                                         "txErrors", "fwdDrops", "rxMpps", "txMpps")} for p in js.get("ports", [])]}
    if case == "vhost_rt":
        vrx, _ = active_samples(st["vhost"]["samples"])
        detail["vhostRxMedianMpps"] = median(vrx)
    if not rx_used:
        res["error"] = "no Rx-pps samples with traffic in the %s process's output" % (
            "net_vhost" if cfg["receiver"] == "vhost" else "virtio_user")
        res["detail"] = detail
        return res
    res["metrics"]["rx_mpps"] = {"value": median(rx_used), "unit": "Mpps", "better": "higher",
                                 "label": cfg["label"], "detail": detail}
    if tx_used:
        res["metrics"]["sender_tx_mpps"] = {
            "value": median(tx_used), "unit": "Mpps", "better": "higher", "label": cfg["xlabel"],
            "detail": {"samples": [round(x, 4) for x in st[cfg["sender"]]["txSamples"]]}}
    else:
        res["notes"].append("no Tx-pps samples with traffic in the sender's output")
    res["ok"] = True
    return res


# ----------------------------------------------------------------------------------------------
# DPDK micro baselines

def parse_ringperf(text):
    """Single-lcore bulk 32 figures of ring_perf_autotest, in cycles per (32 enq + 32 deq).

    22.11 prints, under "### Testing bulk enq/deq ###":
        legacy APIs: SP/SC: bulk (size: 32): 50.23
    older releases print, under "### Testing using a single lcore ###":
        SP/SC bulk enq/dequeue (size: 32): 1.57     (already per object there)
    The same strings recur under the two-core sections, so only the single-lcore section counts,
    and only its first (legacy, 8-byte pointer) occurrence.
    """
    out = {}
    section = ""
    for line in text.splitlines():
        m = re.match(r"^\s*###\s*(.*?)\s*###\s*$", line)
        if m:
            section = m.group(1).lower()
            continue
        new = re.match(r"^\s*legacy APIs:\s*(SP/SC|MP/MC):\s*bulk \(size:\s*32\):\s*([0-9.]+)", line)
        if new and "bulk enq/deq" in section:
            key = "spsc" if new.group(1) == "SP/SC" else "mpmc"
            out.setdefault(key, {"perBurst": float(new.group(2)), "perObject": float(new.group(2)) / 32,
                                 "format": "22.11 (cycles per 32 enq + 32 deq)"})
            continue
        old = re.match(r"^\s*(SP/SC|MP/MC) bulk enq/dequeue \(size:\s*32\):\s*([0-9.]+)", line)
        if old and "single lcore" in section:
            key = "spsc" if old.group(1) == "SP/SC" else "mpmc"
            out.setdefault(key, {"perBurst": float(old.group(2)) * 32, "perObject": float(old.group(2)),
                                 "format": "pre-20.x (cycles per object)"})
    m = re.search(r"TSC frequency[^0-9]*([0-9]+)", text)
    if m:
        out["tscHz"] = int(m.group(1))
    out["testOk"] = "Test OK" in text
    return out


def parse_mpbench(text):
    out = {}
    for line in text.splitlines():
        if not line.startswith("mpbench test="):
            continue
        kv = dict(re.findall(r"(\w+)=(\S+)", line))
        name = kv.pop("test")
        out[name] = {k: (float(v) if re.match(r"^-?[0-9.]+$", v) else v) for k, v in kv.items()}
    return out


MICRO_METRICS = [
    # key, label, Hyperlane BDN method, DPDK source
    ("ring_spsc_bulk32", "Ring SP/SC bulk 32 enq+deq", "RingSpScBulk32", ("ringperf", "spsc")),
    ("ring_mpmc_bulk32", "Ring MP/MC bulk 32 enq+deq", "RingMpMcBulk32", ("ringperf", "mpmc")),
    ("mempool_bulk32", "Mempool get+put bulk 32, cache 512", "MempoolGetPutBulk32",
     ("mpbench", "mempool_bulk32_cache512")),
    ("mbuf_bulk32", "Mbuf alloc+free bulk 32, cache 512", "MbufAllocFreeBulk32",
     ("mpbench", "mbuf_allocfree_bulk32_cache512")),
]


def cmd_micro_hyperlane(run, bdn_json):
    res = {"case": "micro", "side": "hyperlane", "run": int(run), "ok": False, "metrics": {}, "notes": []}
    try:
        js = json.loads(read(bdn_json))
    except (OSError, ValueError) as e:
        res["error"] = "no BenchmarkDotNet summary: %s" % e
        return res
    ghz = (js.get("tscMHz") or TSC_MHZ_FALLBACK) / 1000.0
    by_name = {b["name"]: b for b in js.get("benchmarks", [])}
    for key, label, method, _ in MICRO_METRICS:
        b = by_name.get(method)
        if b is None:
            res["notes"].append("benchmark %s missing" % method)
            continue
        res["metrics"][key] = {
            "value": b["nsPerObject"] * ghz, "unit": "cycles/obj", "better": "lower", "label": label,
            "ns": b["nsPerObject"],
            "detail": {k: b.get(k) for k in ("nsPerObject", "minNs", "maxNs", "meanNs", "stdDevNs",
                                              "iterations", "allocatedBytesPerObject")}}
        if b.get("allocatedBytesPerObject"):
            res["notes"].append("%s allocates %s B/object" % (method, b["allocatedBytesPerObject"]))
    notes = js.get("notes", {})
    mem = notes.get("mbuf.backing") or notes.get("mempool.backing")
    res["memory"] = mem.split(" ")[0] if mem else None
    res["bdnNotes"] = notes
    res["tscMHz"] = js.get("tscMHz")
    res["ok"] = bool(res["metrics"])
    return res


def cmd_micro_dpdk(run, ringperf_path, mpbench_path, mem):
    res = {"case": "micro", "side": "dpdk", "run": int(run), "ok": False, "metrics": {}, "notes": [],
           "memory": mem}
    rp, mb = {}, {}
    try:
        rp = parse_ringperf(read(ringperf_path))
    except OSError as e:
        res["notes"].append("ring_perf output missing: %s" % e)
    try:
        mb = parse_mpbench(read(mpbench_path))
    except OSError as e:
        res["notes"].append("mpbench output missing: %s" % e)
    hz = None
    for v in mb.values():
        hz = v.get("tsc_hz") or hz
    ghz = (hz / 1e9) if hz else TSC_MHZ_FALLBACK / 1000.0
    for key, label, _, (src, name) in MICRO_METRICS:
        if src == "ringperf":
            r = rp.get(name)
            if r is None:
                res["notes"].append("ring_perf_autotest gave no %s bulk 32 line" % name)
                continue
            cross = mb.get("ring_%s_bulk32" % name)
            res["metrics"][key] = {
                "value": r["perObject"], "unit": "cycles/obj", "better": "lower", "label": label,
                "ns": r["perObject"] / ghz,
                "detail": {"ringPerfPerBurst": r["perBurst"], "format": r["format"],
                           "mpbenchCrossCheckCyclesPerObj": cross["cycles_per_obj"] if cross else None}}
        else:
            r = mb.get(name)
            if r is None:
                res["notes"].append("mpbench gave no %s line" % name)
                continue
            res["metrics"][key] = {
                "value": r["cycles_per_obj"], "unit": "cycles/obj", "better": "lower", "label": label,
                "ns": r["ns_per_obj"], "detail": r}
    if rp and not rp.get("testOk"):
        res["notes"].append("ring_perf_autotest did not print 'Test OK'")
    res["tscHz"] = hz
    res["ok"] = bool(res["metrics"])
    return res


# ----------------------------------------------------------------------------------------------
# report

def fmt(v, unit):
    if v is None:
        return "–"
    if unit == "Mpps":
        return "%.1f" % v if v >= 10 else "%.3f" % v
    return "%.2f" % v


def outcome_counts(outcomes):
    """[(outcome, detail), ...] -> [{"outcome", "runs", "detail"}], in order of first appearance."""
    out = []
    for o, d in outcomes:
        e = next((x for x in out if x["outcome"] == o), None)
        if e is None:
            out.append({"outcome": o, "runs": 1, "detail": d})
        else:
            e["runs"] += 1
    return out


# Cases that measure a variant of another case: the report gives, per side, variant / base.
OVERHEAD_PAIRS = [
    # variant, base, metric, what, reference figures (DPDK, dpdk-peer.md §4, hugepages)
    ("failsafe_null_io", "null_io", "rx_mpps", "failsafe over net_null vs plain net_null",
     "dpdk-peer.md §4 (DPDK, hugepages, medians of 3): failsafe_null_io 127.0 vs null_io 123.6 Mpps (x1.03)"),
]


def overhead_rows(table, results):
    rows = []
    by = {(r["case"], r["metric"]): r for r in table}
    for variant, base, metric, what, ref in OVERHEAD_PAIRS:
        v = by.get((variant, metric))
        if v is None:
            continue
        b = by.get((base, metric))
        entry = {"variant": variant, "base": base, "metric": metric, "what": what, "reference": ref,
                 "baseRan": b is not None}
        for side in ("hyperlane", "dpdk"):
            vm = v[side]["median"]
            bm = b[side]["median"] if b else None
            per_run = []
            if b:
                def vals(case):
                    return {r.get("run"): r["metrics"][metric]["value"] for r in results
                            if r.get("case") == case and r.get("side") == side and r.get("ok")
                            and isinstance(r.get("metrics", {}).get(metric, {}).get("value"), (int, float))}
                vr, br = vals(variant), vals(base)
                per_run = [vr[k] / br[k] for k in sorted(vr) if k in br and br[k]]
            entry[side] = {"variantMedian": vm, "baseMedian": bm,
                           "ratio": vm / bm if vm is not None and bm else None,
                           "perRunRatios": [round(x, 3) for x in per_run]}
        rows.append(entry)
    return rows


def overhead_lines(rows):
    lines = []
    for e in rows:
        if not e["baseRan"]:
            lines.append("Overhead of %s (%s): %s was not run in this invocation, so there is no ratio; "
                         "run --cases %s,%s for it. Reference: %s."
                         % (e["variant"], e["what"], e["base"], e["base"], e["variant"], e["reference"]))
            continue
        lines.append("Overhead of %s (%s): %s median / %s median, per side (per-run ratios of the "
                     "interleaved runs in brackets; above 1 = the variant is faster):"
                     % (e["variant"], e["what"], e["variant"], e["base"]))
        lines.append("")
        lines.append("| side | %s | %s | ratio | per-run ratios |" % (e["variant"], e["base"]))
        lines.append("|---|---|---|---|---|")
        for side, lab in (("hyperlane", "Hyperlane"), ("dpdk", "DPDK")):
            x = e[side]
            lines.append("| %s | %s | %s | %s | %s |" % (
                lab, fmt(x["variantMedian"], "Mpps"), fmt(x["baseMedian"], "Mpps"),
                "%.2f" % x["ratio"] if x["ratio"] is not None else "–",
                ", ".join("%.2f" % r for r in x["perRunRatios"]) or "–"))
        lines.append("")
        lines.append("Reference: %s." % e["reference"])
    return lines


def side_stats(rs, key, unavailable, row):
    """min / median / max of metric KEY over one side's results RS (fills unit, better, label of ROW)."""
    vals, nss, outcomes = [], [], []
    for r in rs:
        m = r.get("metrics", {}).get(key)
        if r.get("ok") and m and isinstance(m.get("value"), (int, float)) \
                and not math.isnan(m["value"]):
            vals.append(m["value"])
            if isinstance(m.get("ns"), (int, float)):
                nss.append(m["ns"])
        elif r.get("ok") and m and m.get("outcome"):
            outcomes.append((m["outcome"], m.get("outcomeDetail")))
        else:
            continue
        row["unit"] = row["unit"] or m.get("unit")
        row["better"] = row["better"] or m.get("better")
        row["label"] = row["label"] or m.get("label")
    mems = sorted({str(r.get("memory")) for r in rs if r.get("memory")})
    return {"values": vals, "min": min(vals) if vals else None,
            "median": median(vals), "max": max(vals) if vals else None,
            "nsMedian": median(nss), "runs": len(rs), "memory": mems,
            "unavailable": unavailable, "outcomes": outcome_counts(outcomes)}


def per_run_ratios(a_rs, b_rs, key):
    """run k of A / run k of B for every run number with a figure on both (the interleaved pairs)."""
    def vals(rs):
        return {r.get("run"): r["metrics"][key]["value"] for r in rs
                if r.get("ok") and isinstance(r.get("metrics", {}).get(key, {}).get("value"), (int, float))}
    a, b = vals(a_rs), vals(b_rs)
    return [round(a[k] / b[k], 4) for k in sorted(a, key=lambda x: (x is None, x)) if k in b and b[k]]


def table_row(case, key, sides, unavailable, col_side, conditions, col_label):
    """One row of the table: side COL_SIDE (hyperlane, or an extra pairing) in the "hyperlane"
    column, DPDK in the "dpdk" column, and the ratio of their medians."""
    row = {"case": case, "metric": key, "unit": None, "better": None, "label": None,
           "conditions": conditions}
    row["hyperlane"] = side_stats(sides[col_side], key, unavailable[col_side], row)
    row["dpdk"] = side_stats(sides["dpdk"], key, unavailable["dpdk"], row)
    if col_side != "hyperlane":
        row["hyperlaneColumnSide"] = col_side
    h, d = row["hyperlane"]["median"], row["dpdk"]["median"]
    oc = {s: row[s]["outcomes"] for s in ("hyperlane", "dpdk")}
    if unavailable["dpdk"]:
        row["ratio"] = None
        row["ratioText"] = "DPDK cannot run: " + unavailable["dpdk"]
    elif unavailable[col_side]:
        row["ratio"] = None
        row["ratioText"] = "%s cannot run: %s" % (col_label, unavailable[col_side])
    elif oc["hyperlane"] or oc["dpdk"]:
        # an event that never happened has no figure to divide by: say what happened instead
        row["ratio"] = None
        parts = []
        for s, lab in (("hyperlane", col_label), ("dpdk", "DPDK")):
            for o in oc[s]:
                parts.append("%s %s in %d/%d run(s)%s" % (
                    lab, o["outcome"], o["runs"], row[s]["runs"],
                    " (%s)" % o["detail"] if o.get("detail") else ""))
        row["ratioText"] = "no ratio: " + "; ".join(parts)
    elif h is None or d is None or d == 0:
        row["ratio"] = None
        s_missing = col_side if h is None else "dpdk"
        err = next((r.get("error") for r in sides[s_missing] if r.get("error")), None)
        if err:
            row["ratioText"] = "n/a: " + (err if len(err) <= 200 else err[:197] + "...")
        else:
            row["ratioText"] = "n/a (%s side has no figure)" % (col_label if h is None else "DPDK")
    else:
        row["ratio"] = h / d
        row["ratioText"] = "%.2f" % (h / d)
    row["perRunRatios"] = per_run_ratios(sides[col_side], sides["dpdk"], key)
    return row


def pairing_lines(table, meta):
    """For cases with extra pairings: every pairing's figure and its ratio to DPDK<->DPDK, as
    Markdown lines and as data for the results JSON."""
    lines, data = [], []
    pm = meta.get("pairings", {})
    for case in meta.get("cases", []):
        if not any(p.get("side") not in ("hyperlane", "dpdk") for p in pm.get(case, [])):
            continue
        base = [r for r in table if r["case"] == case and not (r["label"] or "").lower().startswith("cross-check")]
        if not base:
            continue
        b = base[0]
        if not lines:
            lines.append("")
            lines.append("Pairings (each / DPDK<->DPDK, medians; the per-run ratios pair run k of the pairing "
                         "with run k of DPDK<->DPDK, which ran in the same round):")
            lines.append("")
            lines.append("| case | pairing (virtio_user <-> net_vhost) | %s min / **median** / max "
                         "| ratio to DPDK<->DPDK | per-run ratios |" % (b["unit"] or ""))
            lines.append("|---|---|---|---|---|")
        entry = {"case": case, "metric": b["metric"], "unit": b["unit"], "label": b["label"], "pairings": []}
        for p in pm.get(case, []):
            if p.get("side") == "dpdk":
                x, ratio, per = b["dpdk"], (1.0 if b["dpdk"]["median"] else None), []
                rtext = "1.00" if ratio else "–"
            elif p.get("side") == "hyperlane":
                x, ratio, per, rtext = b["hyperlane"], b["ratio"], b["perRunRatios"], b["ratioText"]
            else:
                r = next((r for r in table if r.get("baseCase") == case and r["metric"] == b["metric"]
                          and r.get("pairing", {}).get("side") == p.get("side")), None)
                if r is None:
                    continue
                x, ratio, per, rtext = r["hyperlane"], r["ratio"], r["perRunRatios"], r["ratioText"]
            entry["pairings"].append({"side": p.get("side"), "tag": p.get("tag"), "label": p.get("label"),
                                      "values": x["values"], "min": x["min"], "median": x["median"],
                                      "max": x["max"], "memory": x["memory"], "unavailable": x["unavailable"],
                                      "ratioToDpdk": ratio, "ratioText": rtext, "perRunRatios": per})
            figs = "%s / **%s** / %s" % (fmt(x["min"], b["unit"]), fmt(x["median"], b["unit"]),
                                         fmt(x["max"], b["unit"])) if x["values"] else (
                "cannot run" if x.get("unavailable") else "failed")
            lines.append("| %s | %s (`%s`) | %s | %s | %s |" % (
                case, p.get("label", p["side"]), p.get("tag", p["side"]), figs, rtext,
                ", ".join("%.2f" % v for v in per) or "–"))
        data.append(entry)
    return lines, data


def cmd_report(runs_dir, meta_path, out_json):
    import glob
    import os
    meta = json.loads(read(meta_path))
    results = []
    for path in sorted(glob.glob(os.path.join(runs_dir, "*.json"))):
        try:
            results.append(json.loads(read(path)))
        except ValueError as e:
            print("benchlib: skipping %s: %s" % (path, e), file=sys.stderr)

    cases = meta.get("cases", [])
    pairings_meta = meta.get("pairings", {})
    table = []
    problems = []
    for case in cases:
        cres = [r for r in results if r.get("case") == case]
        # extra pairings (bench/run.sh <case>_pairings): sides other than hyperlane and dpdk
        extra = [p for p in pairings_meta.get(case, []) if p.get("side") not in ("hyperlane", "dpdk")]
        side_names = ["hyperlane", "dpdk"] + [p["side"] for p in extra]
        sides = {s: [r for r in cres if r.get("side") == s] for s in side_names}
        unavailable = {s: next((r.get("unavailable") for r in rs if r.get("unavailable")), None)
                       for s, rs in sides.items()}
        for s, rs in sides.items():
            for r in rs:
                if not r.get("ok") and not r.get("unavailable"):
                    problems.append("%s/%s run %s: %s" % (case, s, r.get("run"), r.get("error", "failed")))
                for n in r.get("notes", []):
                    problems.append("%s/%s run %s: %s" % (case, s, r.get("run"), n))
        keys = []
        for r in cres:
            for k in r.get("metrics", {}):
                if k not in keys:
                    keys.append(k)
        if not keys:
            keys = ["(no result)"]
        case_rows = []
        for key in keys:
            row = table_row(case, key, sides, unavailable, "hyperlane",
                            meta.get("conditions", {}).get(case, ""), "Hyperlane")
            case_rows.append(row)
        table.extend(case_rows)
        # one more row per extra pairing and figure (not the cross-checks): that pairing in the
        # Hyperlane column, DPDK<->DPDK in the DPDK column, ratio pairing / DPDK<->DPDK
        for p in extra:
            for base in case_rows:
                if (base["label"] or "").lower().startswith("cross-check"):
                    continue
                row = table_row(case, base["metric"], sides, unavailable, p["side"],
                                "as %s; Hyperlane column: %s" % (case, p.get("label", p["side"])),
                                p.get("tag", p["side"]))
                row["case"] = "%s[%s]" % (case, p.get("tag", p["side"]))
                row["baseCase"] = case
                row["pairing"] = p
                row["label"] = "%s; %s vs DPDK<->DPDK" % (row["label"] or row["metric"],
                                                          p.get("label", p["side"]))
                table.append(row)

    def side_results(row, col):
        """The results behind column COL ("hyperlane" or "dpdk") of ROW (an extra pairing's row
        holds that pairing in the "hyperlane" column)."""
        c = row.get("baseCase", row["case"])
        s = row.get("hyperlaneColumnSide", "hyperlane") if col == "hyperlane" else "dpdk"
        return [r for r in results if r.get("case") == c and r.get("side") == s]

    lines = []
    lines.append("## Hyperlane vs DPDK %s — %s" % (meta.get("dpdkVersion", ""), meta.get("startedUtc", "")))
    lines.append("")
    lines.append("%d run(s) per side per case, interleaved Hyperlane/DPDK; duration %s s per forwarding run; "
                 "host: %s" % (meta.get("runs", 0), meta.get("duration"), meta.get("host", "")))
    lines.append("")
    lines.append("| case | metric | unit | Hyperlane min / **median** / max | DPDK min / **median** / max "
                 "| ratio HL/DPDK (median) | conditions |")
    lines.append("|---|---|---|---|---|---|---|")
    for row in table:
        def cell(s):
            x = row[s]
            if x["unavailable"]:
                return "cannot run"
            outs = "; ".join("**%s** (%d/%d runs)" % (o["outcome"], o["runs"], x["runs"])
                             for o in x.get("outcomes", []))
            if not x["values"]:
                if outs:
                    return outs
                return "failed" if any(r.get("error") for r in side_results(row, s)) else "–"
            figs = "%s / **%s** / %s" % (fmt(x["min"], row["unit"]), fmt(x["median"], row["unit"]),
                                         fmt(x["max"], row["unit"]))
            return figs + ("; " + outs if outs else "")
        better = {"higher": " (higher is better)", "lower": " (lower is better)"}.get(row["better"], "")
        memtxt = "memory: %s %s, DPDK %s" % (
            row["pairing"].get("tag", "?") if row.get("pairing") else "HL",
            ", ".join(row["hyperlane"]["memory"]) or "?", ", ".join(row["dpdk"]["memory"]) or "?")
        cond = row["conditions"]
        cond = (cond + "; " if cond else "") + memtxt
        lines.append("| %s | %s | %s%s | %s | %s | %s | %s |" % (
            row["case"], row["label"] or row["metric"], row["unit"] or "", better, cell("hyperlane"),
            cell("dpdk"), row["ratioText"], cond))
    micro = [r for r in table if r["unit"] == "cycles/obj"]
    if micro:
        lines.append("")
        lines.append("Micro benchmarks per object (medians; cycles = TSC cycles, Hyperlane: ns x TSC GHz):")
        lines.append("")
        lines.append("| metric | Hyperlane ns | Hyperlane cycles | DPDK ns | DPDK cycles | HL/DPDK |")
        lines.append("|---|---|---|---|---|---|")
        for r in micro:
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                r["label"] or r["metric"], fmt(r["hyperlane"]["nsMedian"], "ns"),
                fmt(r["hyperlane"]["median"], "c"), fmt(r["dpdk"]["nsMedian"], "ns"),
                fmt(r["dpdk"]["median"], "c"), r["ratioText"]))
    overhead = overhead_rows(table, results)
    if overhead:
        lines.append("")
        lines.extend(overhead_lines(overhead))
    plines, pairings = pairing_lines(table, meta)
    lines.extend(plines)
    lines.append("")
    lines.append("Ratio = Hyperlane median / DPDK median: for Mpps above 1 means Hyperlane is faster, for "
                 "cycles/obj above 1 means Hyperlane is slower. Differences under ~30% in the "
                 "framework-bound cases are within this machine's noise (dpdk-peer.md §6).")
    if any(r.get("pairing") for r in table):
        lines.append("Rows named case[virtio_user side/net_vhost side] are the mixed pairings: their "
                     "Hyperlane column holds that pairing's figures, the DPDK column DPDK<->DPDK, and "
                     "the ratio is pairing / DPDK<->DPDK. The plain case row is Hyperlane<->Hyperlane / "
                     "DPDK<->DPDK.")
    if meta.get("load"):
        lines.append("")
        lines.append("Load: before: %s; after: %s" % (meta["load"].get("before", "?"), meta["load"].get("after", "?")))
    if problems:
        lines.append("")
        lines.append("Notes:")
        for p in problems:
            lines.append("- " + p)
    mixed = [r["case"] for r in table
             if any("AnonymousThp" in m for m in r["hyperlane"]["memory"])
             and any("4 KiB" in m for m in r["dpdk"]["memory"])]
    if mixed:
        lines.append("")
        lines.append("Memory caveat (%s): without reserved hugepages DPDK --no-huge runs on 4 KiB pages, while "
                     "Hyperlane's anonymous memory asks for transparent hugepages (MADV_HUGEPAGE), which the "
                     "kernel may grant; that favours Hyperlane on mbuf-heavy paths. For like-for-like figures "
                     "run with --hugepages N (both sides then use 2 MiB hugetlb pages)."
                     % ", ".join(sorted(set(mixed))))
    md = "\n".join(lines) + "\n"

    out = {"meta": meta, "table": table, "overhead": overhead, "pairings": pairings, "results": results,
           "problems": problems, "markdown": md}
    with open(out_json, "w", encoding="utf-8") as f:
        json.dump(out, f, indent=2)
    sys.stdout.write(md)
    # Exit 3 when some case has no figure at all on the Hyperlane side (for --quick).
    missing = [r for r in table if (r["hyperlane"]["median"] is None and not r["hyperlane"]["outcomes"]
                                    and not r["hyperlane"]["unavailable"])
               or (r["dpdk"]["median"] is None and not r["dpdk"]["unavailable"] and not r["dpdk"]["outcomes"])]
    return 3 if missing else 0


def simple(case, side, run, key, msg):
    return {"case": case, "side": side, "run": int(run), "ok": False, "metrics": {}, "notes": [], key: msg}


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "testpmd-stats":
        out = cmd_testpmd_stats(*args)
    elif cmd == "null-io":
        out = cmd_null_io(*args)
    elif cmd == "null-io-case":
        out = cmd_null_io(*args[1:4], summary_path=args[4] if len(args) > 4 else None, case=args[0])
    elif cmd == "failover":
        out = cmd_failover(*args)
    elif cmd == "ringperf":
        out = parse_ringperf(read(args[0]))
    elif cmd == "mpbench":
        out = parse_mpbench(read(args[0]))
    elif cmd == "kio-tx":
        out = cmd_kio_tx(*args)
    elif cmd == "kio-rx":
        out = cmd_kio_rx(*args)
    elif cmd == "vhost":
        out = cmd_vhost(*args)
    elif cmd == "cut":
        # cut SRC BYTES DST: the first BYTES of SRC, up to its last complete line, into DST
        with open(args[0], "rb") as f:
            data = f.read(int(args[1]))
        nl = data.rfind(b"\n")
        with open(args[2], "wb") as f:
            f.write(data[:nl + 1] if nl >= 0 else b"")
        return 0
    elif cmd == "micro-hyperlane":
        out = cmd_micro_hyperlane(*args)
    elif cmd == "micro-dpdk":
        out = cmd_micro_dpdk(*args)
    elif cmd == "failed":
        out = simple(args[0], args[1], args[2], "error", " ".join(args[3:]))
    elif cmd == "unavailable":
        out = simple(args[0], args[1], args[2], "unavailable", " ".join(args[3:]))
    elif cmd == "edit":
        path, op = args[0], args[1]
        try:
            res = json.loads(read(path))
        except (OSError, ValueError):
            res = {"ok": False, "metrics": {}, "notes": [], "error": "no result written"}
        if op == "note":
            res.setdefault("notes", []).append(args[2])
        elif op == "set":
            res[args[2]] = args[3]
        else:
            die("edit: unknown op %s" % op)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
        return 0
    elif cmd == "finalize":
        path, case, side, run, rc = args
        try:
            res = json.loads(read(path))
        except (OSError, ValueError):
            res = {"ok": False, "metrics": {}, "notes": []}
        res["case"], res["side"], res["run"] = case, side, int(run)
        res.setdefault("metrics", {})
        res.setdefault("notes", [])
        res["exitStatus"] = int(rc)
        thp = res.get("thpAnonHugePagesKiB")
        if thp is not None and res.get("memory") == "AnonymousThp":
            try:
                kb = int(thp)
                res["memory"] = "AnonymousThp (THP pages in use)" if kb > 0 else "AnonymousThp (no THP pages: 4 KiB)"
            except ValueError:
                pass
        if not res.get("metrics") and not res.get("unavailable"):
            res["ok"] = False
            res.setdefault("error", "no figure (case function exit status %s)" % rc)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=2)
        m = res.get("metrics", {})
        summary = ", ".join("%s=%.3f %s" % (k, v["value"], v.get("unit", "")) if isinstance(v.get("value"), (int, float))
                            else "%s: %s" % (k, v["outcome"]) for k, v in m.items()
                            if isinstance(v.get("value"), (int, float)) or v.get("outcome"))
        print(summary or res.get("unavailable") or res.get("error") or "no figure")
        return 0
    elif cmd == "report":
        return cmd_report(*args)
    else:
        die("unknown command %s\n%s" % (cmd, __doc__))
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
