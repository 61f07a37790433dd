using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Core;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Cli.TestPmd;

/// <summary>
/// Runs forwarding streams on lcores, as testpmd's packet forwarding engines. The per-lcore loop is
/// the data path: it allocates nothing, throws nothing and takes no lock; modes are a switch, not
/// delegates, and every buffer is made before the loop starts.
/// </summary>
public sealed class ForwardingEngine
{
    /// <summary>Destination flows flowgen cycles through (testpmd's default).</summary>
    public const int FlowGenFlows = 1024;

    private readonly HyperlaneRuntime runtime;
    private readonly Mempool pool;
    private readonly IReadOnlyList<int> segmentLengths;
    private readonly int burst;
    /// <summary>Loop passes before a worker starts counting its allocations (JIT tiering and first-use setup happen before).</summary>
    private const long WarmupPasses = 10_000;

    private readonly List<int> running = [];
    private readonly List<Worker> workers = [];
    private volatile bool stopRequested;

    public ForwardingEngine(HyperlaneRuntime runtime, Mempool pool, IReadOnlyList<int> forwardingLcores, IReadOnlyList<FwdStream> streams, int burst, IReadOnlyList<int> segmentLengths)
    {
        ArgumentNullException.ThrowIfNull(streams);
        ArgumentNullException.ThrowIfNull(forwardingLcores);
        ArgumentNullException.ThrowIfNull(segmentLengths);
        if (forwardingLcores.Count == 0)
        {
            throw new ArgumentException("at least one forwarding lcore is needed", nameof(forwardingLcores));
        }

        this.runtime = runtime;
        this.pool = pool;
        this.burst = burst;
        this.segmentLengths = segmentLengths;
        Streams = streams;
        ForwardingLcores = forwardingLcores;
    }

    public IReadOnlyList<FwdStream> Streams { get; }

    public IReadOnlyList<int> ForwardingLcores { get; }

    public bool IsRunning => running.Count > 0;

    /// <summary>
    /// Managed bytes each forwarding lcore allocated in its loop during the last run, counted on the lcore's
    /// own thread after a warm-up; -1 for an lcore whose run was too short to count. Proves the data path
    /// allocates nothing.
    /// </summary>
    public IReadOnlyList<long> LastRunAllocatedBytes => [.. workers.Select(w => w.AllocatedBytes)];

    /// <summary>Total frame length of generated packets.</summary>
    public int TxPacketLength => segmentLengths.Sum();

    /// <summary>Streams of each forwarding lcore: contiguous blocks, as testpmd assigns them.</summary>
    public IReadOnlyList<IReadOnlyList<FwdStream>> Assignment()
    {
        int lcores = Math.Min(ForwardingLcores.Count, Math.Max(1, Streams.Count));
        var result = new List<IReadOnlyList<FwdStream>>();
        int start = 0;
        for (int i = 0; i < lcores; i++)
        {
            int count = (Streams.Count / lcores) + (i < Streams.Count % lcores ? 1 : 0);
            result.Add([.. Streams.Skip(start).Take(count)]);
            start += count;
        }

        return result;
    }

    /// <summary>Starts forwarding. With <paramref name="txFirst"/>, each stream first sends one burst (testpmd's start tx_first).</summary>
    public void Start(bool txFirst = false)
    {
        if (IsRunning)
        {
            return;
        }

        stopRequested = false;
        workers.Clear();
        var assignment = Assignment();
        for (int i = 0; i < assignment.Count; i++)
        {
            var worker = new Worker(this, [.. assignment[i]], txFirst);
            workers.Add(worker);
            int lcore = ForwardingLcores[i];
            runtime.Lcores.Launch(lcore, worker.Run, $"fwd-lcore-{lcore}");
            running.Add(lcore);
        }
    }

    /// <summary>Stops forwarding and waits for every lcore to leave its loop.</summary>
    public void Stop()
    {
        stopRequested = true;
        foreach (int lcore in running)
        {
            runtime.Lcores.Wait(lcore);
        }

        running.Clear();
    }

    /// <summary>The frame a stream generates in txonly/flowgen/generator modes (testpmd's txonly packet).</summary>
    internal byte[] BuildTemplate(FwdStream s)
    {
        var frame = new byte[TxPacketLength];
        PacketBuilder.Udp4(frame, s.TxPortMac, s.PeerMac, TestPmdDefaults.SourceIp, TestPmdDefaults.DestinationIp, TestPmdDefaults.UdpPort, TestPmdDefaults.UdpPort, frame.Length);
        return frame;
    }

    /// <summary>The state and loop of one forwarding lcore.</summary>
    private sealed class Worker
    {
        private readonly ForwardingEngine engine;
        private readonly FwdStream[] streams;
        private readonly byte[][] templates;
        private readonly long[] flowSums;
        private readonly Mbuf[] packets;
        private readonly Mbuf[] replies;
        private readonly Mbuf[] segments;
        private readonly int[] segmentLengths;
        private readonly bool txFirst;

        public Worker(ForwardingEngine engine, FwdStream[] streams, bool txFirst)
        {
            this.engine = engine;
            this.streams = streams;
            this.txFirst = txFirst;
            packets = new Mbuf[engine.burst];
            replies = new Mbuf[engine.burst];
            segmentLengths = [.. engine.segmentLengths];
            segments = new Mbuf[engine.burst * segmentLengths.Length];
            templates = new byte[streams.Length][];
            flowSums = new long[streams.Length];
            for (int i = 0; i < streams.Length; i++)
            {
                templates[i] = engine.BuildTemplate(streams[i]);
                flowSums[i] = FlowGenHeaders.BaseSum(templates[i]);
            }
        }

        public long AllocatedBytes { get; private set; } = -1;

        public int Run()
        {
            if (txFirst)
            {
                for (int i = 0; i < streams.Length; i++)
                {
                    Generate(streams[i], templates[i], flowSums[i], flowgen: false, sendOnRxPort: false);
                }
            }

            FwdStream[] s = streams;
            long passes = 0, baseline = 0;
            while (!engine.stopRequested)
            {
                if (++passes == WarmupPasses)
                {
                    // One gen-0 collection per run retires this lcore's allocation context. The loop allocates nothing
                    // after it, so a GC started by another thread cannot add the context's unused rest to the count.
                    GC.Collect(0);
                    baseline = GC.GetAllocatedBytesForCurrentThread();
                }

                Pass(s);
            }

            AllocatedBytes = passes >= WarmupPasses ? GC.GetAllocatedBytesForCurrentThread() - baseline : -1;
            return 0;
        }

        /// <summary>
        /// One pass over the streams. A method of its own so that it is compiled, and recompiled with profile data,
        /// as a whole method: the loop in <see cref="Run"/> never returns, so code inlined into it would only ever
        /// run as on-stack-replacement code.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Pass(FwdStream[] s)
        {
            for (int i = 0; i < s.Length; i++)
            {
                FwdStream st = s[i];
                switch (st.Mode)
                {
                    case ForwardMode.Io:
                        Forward(st, rewrite: 0);
                        break;
                    case ForwardMode.Mac:
                        Forward(st, rewrite: 1);
                        break;
                    case ForwardMode.MacSwap:
                        Forward(st, rewrite: 2);
                        break;
                    case ForwardMode.RxOnly:
                        Drain(st);
                        break;
                    case ForwardMode.TxOnly:
                        Generate(st, templates[i], flowSums[i], flowgen: false, sendOnRxPort: false);
                        break;
                    case ForwardMode.FlowGen:
                        Drain(st);
                        Generate(st, templates[i], flowSums[i], flowgen: true, sendOnRxPort: false);
                        break;
                    case ForwardMode.IcmpEcho:
                        IcmpEcho(st);
                        break;
                    case ForwardMode.Generator:
                        Drain(st);
                        Generate(st, templates[i], flowSums[i], flowgen: false, sendOnRxPort: true);
                        break;
                }
            }
        }

        private static void Transmit(FwdStream s, Core.Ports.EthDev port, int queue, Span<Mbuf> burst)
        {
            int sent = port.TxBurst(queue, burst);
            s.TxPackets += sent;
            if (sent < burst.Length)
            {
                s.FwdDrops += burst.Length - sent;
                Mbuf.FreeBulk(burst[sent..]);
            }
        }

        /// <summary>io (rewrite 0), mac (1) and macswap (2).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Forward(FwdStream s, int rewrite)
        {
            Span<Mbuf> burst = packets;
            int n = s.RxPort.RxBurst(s.RxQueue, burst);
            if (n == 0)
            {
                return;
            }

            s.RxPackets += n;
            burst = burst[..n];
            if (rewrite == 1)
            {
                ulong dst = s.PeerMac.ToUInt64(), src = s.TxPortMac.ToUInt64();
                for (int i = 0; i < burst.Length; i++)
                {
                    Span<byte> d = burst[i].Data;
                    if (d.Length >= 12)
                    {
                        WriteMac(d, dst);
                        WriteMac(d[6..], src);
                    }
                }
            }
            else if (rewrite == 2)
            {
                for (int i = 0; i < burst.Length; i++)
                {
                    SwapMacs(burst[i].Data);
                }
            }

            Transmit(s, s.TxPort, s.TxQueue, burst);
        }

        private void Drain(FwdStream s)
        {
            Span<Mbuf> burst = packets;
            int n = s.RxPort.RxBurst(s.RxQueue, burst);
            if (n > 0)
            {
                s.RxPackets += n;
                Mbuf.FreeBulk(burst[..n]);
            }
        }

        private void Generate(FwdStream s, byte[] template, long flowSum, bool flowgen, bool sendOnRxPort)
        {
            Span<Mbuf> burst = packets;
            if (engine.pool.AllocBulk(burst) == 0)
            {
                s.AllocFailures += burst.Length;
                return;
            }

            int[] lens = segmentLengths;
            if (lens.Length == 1)
            {
                for (int i = 0; i < burst.Length; i++)
                {
                    Mbuf m = burst[i];
                    m.DataLength = (ushort)template.Length;
                    m.PacketLength = (uint)template.Length;
                    PacketCopy.Copy(template, m.Data);
                }
            }
            else if (!BuildMultiSegment(burst, template, lens))
            {
                s.AllocFailures += burst.Length;
                Mbuf.FreeBulk(burst);
                return;
            }

            if (flowgen)
            {
                for (int i = 0; i < burst.Length; i++)
                {
                    Span<byte> frame = burst[i].Data;
                    if (!FlowGenHeaders.TryStamp(frame, TestPmdDefaults.DestinationIp + (uint)s.NextFlow, flowSum))
                    {
                        SetFlow(frame, s.NextFlow);
                    }

                    s.NextFlow = s.NextFlow + 1 == FlowGenFlows ? 0 : s.NextFlow + 1;
                }
            }

            if (sendOnRxPort)
            {
                Transmit(s, s.RxPort, s.RxQueue, burst);
            }
            else
            {
                Transmit(s, s.TxPort, s.TxQueue, burst);
            }
        }

        private bool BuildMultiSegment(Span<Mbuf> burst, byte[] template, int[] lens)
        {
            int extra = lens.Length - 1;
            Span<Mbuf> segs = segments.AsSpan(0, burst.Length * extra);
            if (engine.pool.AllocBulk(segs) == 0)
            {
                return false;
            }

            for (int i = 0; i < burst.Length; i++)
            {
                Mbuf head = burst[i];
                head.DataLength = (ushort)lens[0];
                head.PacketLength = (uint)lens[0];
                template.AsSpan(0, lens[0]).CopyTo(head.Data);
                int offset = lens[0];
                for (int k = 0; k < extra; k++)
                {
                    Mbuf seg = segs[(i * extra) + k];
                    seg.DataLength = (ushort)lens[k + 1];
                    seg.PacketLength = (uint)lens[k + 1];
                    template.AsSpan(offset, lens[k + 1]).CopyTo(seg.Data);
                    offset += lens[k + 1];
                    head.TryChain(seg);
                }
            }

            return true;
        }

        private void IcmpEcho(FwdStream s)
        {
            Span<Mbuf> burst = packets;
            int n = s.RxPort.RxBurst(s.RxQueue, burst);
            if (n == 0)
            {
                return;
            }

            s.RxPackets += n;
            int replyCount = 0;
            for (int i = 0; i < n; i++)
            {
                Mbuf m = burst[i];
                if (m.SegmentCount == 1 && TryMakeReply(m.Data, s.RxPort.MacAddress))
                {
                    replies[replyCount++] = m;
                }
                else
                {
                    m.Free();
                }
            }

            if (replyCount > 0)
            {
                Transmit(s, s.RxPort, s.TxQueue, replies.AsSpan(0, replyCount));
            }
        }

        /// <summary>Turns an ARP request or ICMPv4 echo request into its reply in place.</summary>
        private static bool TryMakeReply(Span<byte> frame, MacAddress portMac)
        {
            if (!EthernetHeader.TryCreate(frame, out var eth))
            {
                return false;
            }

            if (eth.EtherType == EtherTypes.Arp)
            {
                if (!ArpHeader.TryCreate(eth.Payload, out var arp) || !arp.IsEthernetIpv4 || arp.Opcode != ArpHeader.Request)
                {
                    return false;
                }

                MacAddress requester = arp.SenderMac;
                uint requesterIp = arp.SenderIp, wantedIp = arp.TargetIp;
                eth.Destination = requester;
                eth.Source = portMac;
                arp.Opcode = ArpHeader.Reply;
                arp.TargetMac = requester;
                arp.TargetIp = requesterIp;
                arp.SenderMac = portMac;
                arp.SenderIp = wantedIp;
                return true;
            }

            if (eth.EtherType != EtherTypes.Ipv4 || !Ipv4Header.TryCreate(eth.Payload, out var ip) || ip.Protocol != IpProtocols.Icmp || ip.IsFragment)
            {
                return false;
            }

            Span<byte> l4 = ip.Payload;
            if (!IcmpHeader.TryCreate(l4, out var icmp) || icmp.Type != IcmpHeader.EchoRequest)
            {
                return false;
            }

            SwapMacs(frame);
            (ip.Source, ip.Destination) = (ip.Destination, ip.Source);
            ip.UpdateChecksum();
            icmp.Type = IcmpHeader.EchoReply;
            icmp.Checksum = 0;
            icmp.Checksum = (ushort)~Checksum.Ones(l4);
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void SwapMacs(Span<byte> d)
        {
            if (d.Length < 12)
            {
                return;
            }

            ref byte p = ref MemoryMarshal.GetReference(d);
            uint d0 = Unsafe.ReadUnaligned<uint>(ref p);
            ushort d1 = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, 4));
            uint s0 = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, 6));
            ushort s1 = Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref p, 10));
            Unsafe.WriteUnaligned(ref p, s0);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 4), s1);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 6), d0);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref p, 10), d1);
        }

        /// <summary>Writes a MAC given as <see cref="MacAddress.ToUInt64"/> (first octet in bits 47..40).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void WriteMac(Span<byte> d, ulong mac)
        {
            BinaryPrimitives.WriteUInt32BigEndian(d, (uint)(mac >> 16));
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)mac);
        }

        /// <summary>
        /// Sets the flow's destination IP, fixes the IPv4 header checksum and clears the UDP checksum: the general
        /// rewrite, for a template <see cref="FlowGenHeaders"/> does not apply to.
        /// </summary>
        private static void SetFlow(Span<byte> frame, int flow)
        {
            if (frame.Length < EthernetHeader.Length + Ipv4Header.MinLength)
            {
                return;
            }

            var ip = new Ipv4Header(frame[EthernetHeader.Length..]);
            ip.Destination = TestPmdDefaults.DestinationIp + (uint)flow;
            ip.UpdateChecksum();
            if (frame.Length >= EthernetHeader.Length + Ipv4Header.MinLength + UdpHeader.Length)
            {
                new UdpHeader(frame[(EthernetHeader.Length + Ipv4Header.MinLength)..]).Checksum = 0;
            }
        }
    }
}
