using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Hyperlane.Memory;
using Hyperlane.Packets;

namespace Hyperlane.Net.Tap.Tests;

/// <summary>
/// The virtio_net_hdr the kernel writes in front of every Rx packet (TUN/TAP with IFF_VNET_HDR) is validated
/// before it is believed (DESIGN.md, Code habits). A real TAP cannot be made to write a hostile header (the
/// kernel builds it from the skb), so the check is driven two ways: <see cref="TapRxQueue.TryOffloadFlags"/>
/// directly, and the whole <see cref="TapRxQueue.Receive"/> path over a UDP socket on loopback, whose
/// datagrams stand in for what readv(2) on the TAP fd returns (12-byte header then the frame). No root needed.
/// </summary>
public sealed class TapVnetHeaderTests
{
    private const byte NeedsCsum = VirtioNetHeader.FlagNeedsCsum;
    private const byte DataValid = VirtioNetHeader.FlagDataValid;
    private static int poolCounter;

    public static TheoryData<string, byte, byte, ushort, ushort, ushort, ushort, int> Hostile => new()
    {
        // name, flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, packet length
        { "csum_start beyond the packet", NeedsCsum, 0, 0, 0, 200, 6, 100 },
        { "csum_start + csum_offset beyond the packet", NeedsCsum, 0, 0, 0, 34, 100, 100 },
        { "csum_start + csum_offset at the last byte (no room for 2)", NeedsCsum, 0, 0, 0, 34, 65, 100 },
        { "csum_start + csum_offset one byte short of room for 2", NeedsCsum, 0, 0, 0, 92, 7, 100 },
        { "csum_start and csum_offset both 0xffff", NeedsCsum, 0, 0, 0, 0xffff, 0xffff, 100 },
        { "csum_offset 0", NeedsCsum, 0, 0, 0, 34, 0, 100 },
        { "csum_offset 1", NeedsCsum, 0, 0, 0, 34, 1, 100 },
        { "gso_type 2 (unknown: was TCPV4_ECN)", NeedsCsum, 2, 54, 1000, 34, 16, 3000 },
        { "gso_type 6 (unknown)", NeedsCsum, 6, 54, 1000, 34, 16, 3000 },
        { "gso_type 0x7f (unknown)", NeedsCsum, 0x7f, 54, 1000, 34, 16, 3000 },
        { "gso_type ECN without a GSO type", 0, VirtioNetHeader.GsoEcn, 0, 0, 0, 0, 100 },
        { "gso_type 0xff", NeedsCsum, 0xff, 54, 1000, 34, 16, 3000 },
        { "gso_size 0 with TCPV4", NeedsCsum, VirtioNetHeader.GsoTcpV4, 54, 0, 34, 16, 3000 },
        { "gso_size 0 with TCPV6", NeedsCsum, VirtioNetHeader.GsoTcpV6, 74, 0, 54, 16, 3000 },
        { "gso_size 0 with UDP_L4", NeedsCsum, VirtioNetHeader.GsoUdpL4, 42, 0, 34, 6, 3000 },
        { "gso_size as large as the packet", NeedsCsum, VirtioNetHeader.GsoTcpV4, 54, 3000, 34, 16, 3000 },
        { "hdr_len beyond the packet", NeedsCsum, VirtioNetHeader.GsoTcpV4, 3001, 1448, 34, 16, 3000 },
        { "hdr_len 0xffff", NeedsCsum, VirtioNetHeader.GsoTcpV6, 0xffff, 1428, 54, 16, 3000 },
        { "GSO without NEEDS_CSUM", 0, VirtioNetHeader.GsoTcpV4, 54, 1448, 0, 0, 3000 },
        { "GSO with DATA_VALID only", DataValid, VirtioNetHeader.GsoUdpL4, 42, 1000, 0, 0, 3000 },
        { "GSO whose csum fields point past the packet", NeedsCsum, VirtioNetHeader.GsoTcpV4, 54, 1448, 2990, 16, 3000 },
        { "NEEDS_CSUM and DATA_VALID with csum fields past the packet", NeedsCsum | DataValid, 0, 0, 0, 98, 6, 100 },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_header_is_rejected(string name, byte flags, byte gsoType, ushort hdrLen, ushort gsoSize, ushort csumStart, ushort csumOffset, int length)
    {
        var h = Header(flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset);
        Assert.False(TapRxQueue.TryOffloadFlags(in h, length, out _, out _), name);
    }

    public static TheoryData<string, byte, byte, ushort, ushort, ushort, ushort, int, ulong, ushort> Good => new()
    {
        // name, flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, length, expected flags, expected tso
        { "plain", 0, 0, 0, 0, 0, 0, 60, 0, 0 },
        { "plain with garbage in unused fields", 0, 0, 0xffff, 0xffff, 0xffff, 0xffff, 60, 0, 0 },
        { "DATA_VALID", DataValid, 0, 0, 0, 0, 0, 60, (ulong)MbufOffloadFlags.RxL4ChecksumGood, 0 },
        { "NEEDS_CSUM UDP", NeedsCsum, 0, 0, 0, 34, 6, 100, (ulong)MbufOffloadFlags.RxL4ChecksumNone, 0 },
        { "NEEDS_CSUM ending exactly at the last byte", NeedsCsum, 0, 0, 0, 34, 64, 100, (ulong)MbufOffloadFlags.RxL4ChecksumNone, 0 },
        { "NEEDS_CSUM ICMP (offset 2)", NeedsCsum, 0, 0, 0, 34, 2, 98, (ulong)MbufOffloadFlags.RxL4ChecksumNone, 0 },
        { "TCPV4 GSO", NeedsCsum, VirtioNetHeader.GsoTcpV4, 66, 1448, 34, 16, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1448 },
        { "TCPV4|ECN GSO", NeedsCsum, VirtioNetHeader.GsoTcpV4 | VirtioNetHeader.GsoEcn, 66, 1448, 34, 16, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1448 },
        { "TCPV6 GSO", NeedsCsum, VirtioNetHeader.GsoTcpV6, 86, 1428, 54, 16, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1428 },
        { "UDP (UFO) GSO", NeedsCsum, VirtioNetHeader.GsoUdp, 42, 1472, 34, 6, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1472 },
        { "UDP_L4 GSO", NeedsCsum, VirtioNetHeader.GsoUdpL4, 42, 1472, 34, 6, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1472 },
        { "GSO with hdr_len equal to the length", NeedsCsum, VirtioNetHeader.GsoTcpV4, 3000, 1448, 34, 16, 3000, (ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), 1448 },
    };

    [Theory]
    [MemberData(nameof(Good))]
    public void Good_header_is_accepted_with_the_right_flags(string name, byte flags, byte gsoType, ushort hdrLen, ushort gsoSize, ushort csumStart, ushort csumOffset, int length, ulong expected, ushort expectedTso)
    {
        var h = Header(flags, gsoType, hdrLen, gsoSize, csumStart, csumOffset);
        Assert.True(TapRxQueue.TryOffloadFlags(in h, length, out ulong got, out ushort tso), name);
        Assert.Equal(expected, got);
        Assert.Equal(expectedTso, tso);
    }

    /// <summary>
    /// NEEDS_CSUM and DATA_VALID together: tun never sets both (virtio_net_hdr_from_skb picks one). The driver
    /// believes NEEDS_CSUM (checksum not computed) and never reports the checksum as good on such a header.
    /// </summary>
    [Fact]
    public void Needs_csum_and_data_valid_together_never_claim_a_good_checksum()
    {
        var h = Header(NeedsCsum | DataValid, 0, 0, 0, 34, 6);
        if (TapRxQueue.TryOffloadFlags(in h, 100, out ulong flags, out _))
        {
            Assert.Equal(0UL, flags & (ulong)MbufOffloadFlags.RxL4ChecksumGood);
            Assert.Equal((ulong)MbufOffloadFlags.RxL4ChecksumNone, flags);
        }
    }

    /// <summary>
    /// num_buffers: with TUNSETVNETHDRSZ 12 tun writes the 10-byte header and skips the last 2 bytes, so
    /// num_buffers holds whatever the buffer held before. It must not decide anything: a header is accepted or
    /// rejected, and gets its flags, the same whatever num_buffers says.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(0xffff)]
    public void Num_buffers_is_never_believed(int numBuffers)
    {
        var good = Header(NeedsCsum, VirtioNetHeader.GsoTcpV4, 66, 1448, 34, 16);
        good.NumBuffers = (ushort)numBuffers;
        Assert.True(TapRxQueue.TryOffloadFlags(in good, 3000, out ulong flags, out ushort tso));
        Assert.Equal((ulong)(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro), flags);
        Assert.Equal(1448, tso);

        var bad = Header(NeedsCsum, 0, 0, 0, 200, 6);
        bad.NumBuffers = (ushort)numBuffers;
        Assert.False(TapRxQueue.TryOffloadFlags(in bad, 100, out _, out _));
    }

    [Fact]
    public void Every_header_and_length_is_answered_without_throwing()
    {
        // A sweep over edge values of every field; a thrown exception fails the test.
        ushort[] u16 = [0, 1, 2, 13, 14, 54, 99, 100, 101, 1448, 0x7fff, 0xfffe, 0xffff];
        byte[] flagsSet = [0, 1, 2, 3, 4, 5, 7];
        byte[] gsoSet = [0, 1, 3, 4, 5, 6, 0x80, 0x81, 0xff];
        int[] lengths = [0, 1, 14, 100, 65536];
        int accepted = 0;
        foreach (byte f in flagsSet)
        {
            foreach (byte g in gsoSet)
            {
                foreach (ushort v in u16)
                {
                    foreach (int len in lengths)
                    {
                        var h = Header(f, g, v, v, v, (ushort)(0xffff - v));
                        if (TapRxQueue.TryOffloadFlags(in h, len, out ulong flags, out ushort tso))
                        {
                            accepted++;
                            if ((f & NeedsCsum) != 0)
                            {
                                Assert.True(h.CsumStart + h.CsumOffset + 2 <= len);
                            }

                            if (tso != 0)
                            {
                                Assert.True(tso < len);
                                Assert.True(h.HdrLen <= len);
                                Assert.NotEqual(0UL, flags & (ulong)MbufOffloadFlags.RxLro);
                            }
                        }
                    }
                }
            }
        }

        Assert.True(accepted > 0);
    }

    /// <summary>
    /// The burst path: each datagram on a loopback UDP socket is what one readv on the TAP fd returns. Good
    /// headers give packets with the right flags and bytes; every hostile header, and a runt, is counted as an
    /// Rx error and dropped, with no exception and no mbuf lost.
    /// </summary>
    [Fact]
    public void Receive_counts_bad_headers_as_errors_and_delivers_the_good_ones()
    {
        using var pool = Mempool.CreatePacketPool($"tap-vnet-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}", 512, cacheSize: 0);
        using var rx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        rx.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        rx.Blocking = false;
        rx.ReceiveBufferSize = 1 << 20;
        using var tx = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        tx.Connect(rx.LocalEndPoint!);

        var q = new TapRxQueue(0, 64, pool, (int)rx.Handle, new TapPortState(), port: 7, isTun: false);
        try
        {
            byte[] f1 = Frame(100, 1), f2 = Frame(200, 2), f3 = Frame(3000, 3);
            var sends = new (VirtioNetHeader Header, byte[] Frame)[]
            {
                (Header(0, 0, 0, 0, 0, 0), f1),
                (Header(NeedsCsum, 0, 0, 0, 34, 100), Frame(100, 9)), // csum field past the packet
                (Header(DataValid, 0, 0, 0, 0, 0), f2),
                (Header(NeedsCsum, 6, 54, 1000, 34, 16), Frame(3000, 9)), // unknown gso_type
                (Header(NeedsCsum, VirtioNetHeader.GsoTcpV4, 0, 0, 34, 16), Frame(3000, 9)), // gso_size 0
                (Header(NeedsCsum, VirtioNetHeader.GsoTcpV4, 3001, 1448, 34, 16), Frame(3000, 9)), // hdr_len > length
                (Header(0, 0, 0, 0, 0, 0), Frame(10, 9)), // runt: shorter than an Ethernet header
                (Header(NeedsCsum, VirtioNetHeader.GsoTcpV4, 66, 1448, 34, 16), f3),
            };
            foreach (var (h, f) in sends)
            {
                var d = new byte[VirtioNetHeader.Size + f.Length];
                MemoryMarshal.Write(d, in h);
                f.CopyTo(d.AsSpan(VirtioNetHeader.Size));
                Assert.Equal(d.Length, tx.Send(d));
            }

            var got = new List<Mbuf>();
            var burst = new Mbuf[16];
            var sw = Stopwatch.StartNew();
            while ((got.Count < 3 || q.Counters.Errors < 5) && sw.Elapsed < TimeSpan.FromSeconds(2))
            {
                int n = q.Receive(burst);
                got.AddRange(burst.AsSpan(0, n).ToArray());
                if (n == 0)
                {
                    Thread.Sleep(1);
                }
            }

            Assert.Equal(0, q.Receive(burst)); // nothing else came
            Assert.Equal(5, q.Counters.Errors);
            Assert.Equal(3, got.Count);
            Assert.Equal(3, q.Counters.Packets);
            Assert.Equal(100 + 200 + 3000, q.Counters.Bytes);

            Assert.Equal(f1, TapLab.Bytes(got[0]));
            Assert.Equal((MbufOffloadFlags)0, got[0].OffloadFlags);
            Assert.Equal(f2, TapLab.Bytes(got[1]));
            Assert.Equal(MbufOffloadFlags.RxL4ChecksumGood, got[1].OffloadFlags);
            Assert.Equal(f3, TapLab.Bytes(got[2]));
            Assert.Equal(MbufOffloadFlags.RxL4ChecksumNone | MbufOffloadFlags.RxLro, got[2].OffloadFlags);
            Assert.Equal(1448, got[2].TsoSegmentSize);
            Assert.True(got[2].SegmentCount >= 2);
            Assert.All(got, m => Assert.Equal(7, m.Port));
            Mbuf.FreeBulk(got.ToArray());
        }
        finally
        {
            q.Release();
        }

        Assert.Equal(0, pool.Audit().InUse);
    }

    private static VirtioNetHeader Header(byte flags, byte gsoType, ushort hdrLen, ushort gsoSize, ushort csumStart, ushort csumOffset) => new()
    {
        Flags = flags,
        GsoType = gsoType,
        HdrLen = hdrLen,
        GsoSize = gsoSize,
        CsumStart = csumStart,
        CsumOffset = csumOffset,
        NumBuffers = 0,
    };

    private static byte[] Frame(int length, byte seed)
    {
        var f = new byte[length];
        for (int i = 0; i < f.Length; i++)
        {
            f[i] = (byte)((i * 31) + seed);
        }

        return f;
    }
}
