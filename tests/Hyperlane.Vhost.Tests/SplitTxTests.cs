using System.Buffers.Binary;
using Hyperlane.Memory;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>Guest → host (<see cref="SplitVhostQueue.Dequeue"/>) with a well-behaved driver: header sizes, chains, indirect tables, mbuf chaining, offloads, mbuf exhaustion.</summary>
public class SplitTxTests
{
    public const ulong V1 = 1UL << VirtioFeatures.Version1;

    /// <summary>VERSION_1 + CSUM: a guest may only ask for offloads when VIRTIO_NET_F_CSUM is negotiated.</summary>
    public const ulong V1Csum = V1 | (1UL << VirtioFeatures.NetCsum);
    public const ulong Mrg = 1UL << VirtioFeatures.NetMrgRxbuf;
    public const ulong Indirect = 1UL << VirtioFeatures.RingIndirectDesc;

    public static TheoryData<int, ulong> SizesAndFeatures()
    {
        var data = new TheoryData<int, ulong>();
        foreach (int size in new[] { 64, 60, 1514, 2048, 2049, 4000, 9000 })
        {
            foreach (ulong features in new[] { 0UL, V1, V1 | Mrg, Mrg })
            {
                data.Add(size, features);
            }
        }

        return data;
    }

    internal static List<byte[]> DequeueBytes(SplitVhostQueue queue, Mempool pool, int max = 64)
    {
        var packets = new Mbuf[max];
        int n = queue.Dequeue(pool, packets);
        var list = new List<byte[]>();
        for (int i = 0; i < n; i++)
        {
            list.Add(LabFrames.Bytes(packets[i]));
        }

        Mbuf.FreeBulk(packets.AsSpan(0, n));
        return list;
    }

    internal static void AssertNoLeak(SplitRingDriver driver)
    {
        Assert.Equal(0, driver.Pool.InUseCount);
        Assert.Equal(0, driver.Pool.DoubleFreeCount);
    }

    [Theory]
    [MemberData(nameof(SizesAndFeatures))]
    public void One_descriptor_round_trip(int size, ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] frame = SplitPackets.Frame(size, size);
        ushort head = driver.PostTx(SplitPackets.WithHeader(driver.HeaderSize, frame), int.MaxValue);

        List<byte[]> got = DequeueBytes(queue, driver.Pool);

        Assert.Equal(frame, Assert.Single(got));
        Assert.Equal([(head, 0u)], driver.PopUsed());
        Assert.Equal(1, queue.Stats.Packets);
        Assert.Equal(size, queue.Stats.Bytes);
        Assert.Equal(0, queue.Stats.Faults);
        Assert.Equal(1u, queue.GetBase());
        AssertNoLeak(driver);
    }

    [Theory]
    [MemberData(nameof(SizesAndFeatures))]
    public void Header_in_its_own_descriptor_then_data_in_pieces(int size, ulong features)
    {
        using var driver = new SplitRingDriver(256, features);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] frame = SplitPackets.Frame(size, size + 1);
        driver.PostTx(SplitPackets.WithHeader(driver.HeaderSize, frame), driver.HeaderSize, 1000, 7, 1, 3000, int.MaxValue);

        Assert.Equal(frame, Assert.Single(DequeueBytes(queue, driver.Pool)));
        AssertNoLeak(driver);
    }

    [Theory]
    [InlineData(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)] // one byte per descriptor: the header over 12 descriptors (CVE-2022-2132 class)
    [InlineData(4, 4, 4)]
    [InlineData(5, 9)]                               // the header ends inside the second descriptor, which carries data too
    [InlineData(11, 100)]
    public void Header_split_across_descriptors(params int[] pieces)
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] frame = SplitPackets.Frame(300, 3);
        var header = new VirtioNetHeader { Flags = 0, GsoType = 0, NumBuffers = 0x1234 };
        var p = new int[pieces.Length + 1];
        pieces.CopyTo(p, 0);
        p[^1] = int.MaxValue;
        driver.PostTx(SplitPackets.WithHeader(12, frame, header), p);

        Assert.Equal(frame, Assert.Single(DequeueBytes(queue, driver.Pool)));
        AssertNoLeak(driver);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1514)]
    [InlineData(9000)]
    public void Indirect_table_round_trip(int size)
    {
        using var driver = new SplitRingDriver(256, V1 | Indirect);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] frame = SplitPackets.Frame(size, 7);
        ushort head = driver.PostTxIndirect(SplitPackets.WithHeader(12, frame), 12, 500, 500, int.MaxValue);

        Assert.Equal(frame, Assert.Single(DequeueBytes(queue, driver.Pool)));
        Assert.Equal([(head, 0u)], driver.PopUsed());
        AssertNoLeak(driver);
    }

    [Fact]
    public void Direct_descriptors_followed_by_an_indirect_one()
    {
        // §2.7.5.3.2: "zero or more normal chained descriptors followed by a single descriptor with flags & INDIRECT".
        using var driver = new SplitRingDriver(256, V1 | Indirect);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] bytes = SplitPackets.WithHeader(12, SplitPackets.Frame(700, 8));
        ulong hdr = driver.AllocBuffer(12);
        bytes.AsSpan(0, 12).CopyTo(driver.At(hdr, 12));
        ulong data = driver.AllocBuffer(700);
        bytes.AsSpan(12).CopyTo(driver.At(data, 700));
        ulong table = driver.AllocBuffer(32, 16);
        driver.WriteDescAt(table, data, 300, VirtqDescFlags.Next, 1);
        driver.WriteDescAt(table + 16, data + 300, 400, VirtqDescFlags.None);
        ushort a = driver.AllocDesc(), b = driver.AllocDesc();
        driver.WriteDesc(a, hdr, 12, VirtqDescFlags.Next, b);
        driver.WriteDesc(b, table, 32, VirtqDescFlags.Indirect | VirtqDescFlags.Write); // WRITE on the table descriptor is ignored (§2.7.5.3.2)
        driver.Track(a, [a, b]);
        driver.PushAvail(a);

        Assert.Equal(bytes.AsSpan(12).ToArray(), Assert.Single(DequeueBytes(queue, driver.Pool)));
        Assert.Equal(0, queue.Stats.Faults);
        AssertNoLeak(driver);
    }

    [Fact]
    public void A_burst_takes_at_most_the_span_and_the_rest_waits()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        var frames = new List<byte[]>();
        for (int i = 0; i < 40; i++)
        {
            frames.Add(SplitPackets.Frame(60 + (i * 37), i));
            driver.PostTx(SplitPackets.WithHeader(12, frames[i]), 12, int.MaxValue);
        }

        List<byte[]> first = DequeueBytes(queue, driver.Pool, 32);
        Assert.Equal(32, first.Count);
        Assert.Equal(32u, queue.GetBase());
        List<byte[]> second = DequeueBytes(queue, driver.Pool, 32);
        Assert.Equal(frames, first.Concat(second));
        Assert.Equal(40, driver.PopUsed().Count);
        Assert.Empty(DequeueBytes(queue, driver.Pool));
        Assert.Equal(256, driver.FreeDescriptors);
        AssertNoLeak(driver);
    }

    [Fact]
    public void In_order_used_elements_follow_the_avail_order_faults_included()
    {
        // VIRTIO_F_IN_ORDER: one used element per head, in the order the heads were made available.
        using var driver = new SplitRingDriver(256, V1 | (1UL << VirtioFeatures.InOrder));
        SplitVhostQueue queue = driver.CreateQueue();
        var heads = new List<(uint, uint)>();
        for (int i = 0; i < 6; i++)
        {
            if (i == 3)
            {
                ushort bad = driver.AllocDesc();
                driver.WriteDesc(bad, 0xDEAD_0000_0000, 64, VirtqDescFlags.None);
                driver.Track(bad, [bad]);
                driver.PushAvail(bad);
                heads.Add((bad, 0));
            }
            else
            {
                heads.Add((driver.PostTx(SplitPackets.WithHeader(12, SplitPackets.Frame(100, i)), 12, int.MaxValue), 0));
            }
        }

        Assert.Equal(5, DequeueBytes(queue, driver.Pool).Count);
        Assert.Equal(heads, driver.PopUsed());
        AssertNoLeak(driver);
    }

    [Fact]
    public void Ring_index_wraps_round_2_pow_16()
    {
        using var driver = new SplitRingDriver(16, V1, baseIndex: 65530);
        SplitVhostQueue queue = driver.CreateQueue();
        for (int round = 0; round < 4; round++)
        {
            var frames = new List<byte[]>();
            for (int i = 0; i < 5; i++)
            {
                frames.Add(SplitPackets.Frame(100 + i, (round * 10) + i));
                driver.PostTx(SplitPackets.WithHeader(12, frames[i]), int.MaxValue);
            }

            Assert.Equal(frames, DequeueBytes(queue, driver.Pool));
            Assert.Equal(5, driver.PopUsed().Count);
        }

        Assert.Equal(14u, queue.GetBase()); // (65530 + 20) mod 2^16
        Assert.Equal(0, queue.Stats.Faults);
        AssertNoLeak(driver);
    }

    [Fact]
    public void Packets_longer_than_one_mbuf_are_chained()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] frame = SplitPackets.Frame(65536, 9);
        driver.PostTx(SplitPackets.WithHeader(12, frame), 12, 30000, int.MaxValue);
        var packets = new Mbuf[4];
        Assert.Equal(1, queue.Dequeue(driver.Pool, packets));
        Assert.True(packets[0].SegmentCount > 1);
        Assert.Equal(frame, LabFrames.Bytes(packets[0]));
        packets[0].Free();
        AssertNoLeak(driver);
    }

    [Fact]
    public void Out_of_mbufs_stops_the_burst_and_leaves_the_head_in_the_ring()
    {
        // 9000 bytes need 5 mbufs of 2048; a pool of 7 holds one such packet.
        using var driver = new SplitRingDriver(256, V1, poolSize: 7);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] a = SplitPackets.Frame(9000, 1), b = SplitPackets.Frame(9000, 2);
        driver.PostTx(SplitPackets.WithHeader(12, a), int.MaxValue);
        ushort headB = driver.PostTx(SplitPackets.WithHeader(12, b), int.MaxValue);

        var packets = new Mbuf[8];
        Assert.Equal(1, queue.Dequeue(driver.Pool, packets));
        Assert.Equal(1u, queue.GetBase());
        Assert.Equal(0, queue.Stats.Dropped);
        Assert.Equal(0, queue.Stats.Faults);
        Assert.Single(driver.PopUsed());
        Assert.Equal(5, driver.Pool.InUseCount); // the partial copy of b was given back

        Assert.Equal(1, queue.Stats.MbufShortages);
        Assert.Equal(0, queue.Dequeue(driver.Pool, packets.AsSpan(1)));
        Assert.Equal(1u, queue.GetBase());
        Assert.Equal(2, queue.Stats.MbufShortages);

        Assert.Equal(a, LabFrames.Bytes(packets[0]));
        packets[0].Free();
        Assert.Equal(1, queue.Dequeue(driver.Pool, packets));
        Assert.Equal(b, LabFrames.Bytes(packets[0]));
        packets[0].Free();
        Assert.Equal([(headB, 0u)], driver.PopUsed());
        AssertNoLeak(driver);
    }

    [Fact]
    public void A_zero_length_descriptor_is_skipped_without_looking_at_its_address()
    {
        // CVE-2020-10725: a zero-length descriptor with a bogus address must not be translated or touched.
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] bytes = SplitPackets.WithHeader(12, SplitPackets.Frame(200, 4));
        ulong buf = driver.AllocBuffer(bytes.Length);
        bytes.CopyTo(driver.At(buf, bytes.Length));
        ushort a = driver.AllocDesc(), b = driver.AllocDesc(), c = driver.AllocDesc();
        driver.WriteDesc(a, buf, 100, VirtqDescFlags.Next, b);
        driver.WriteDesc(b, 0xFFFF_FFFF_FFFF_0000, 0, VirtqDescFlags.Next, c);
        driver.WriteDesc(c, buf + 100, (uint)(bytes.Length - 100), VirtqDescFlags.None);
        driver.Track(a, [a, b, c]);
        driver.PushAvail(a);

        Assert.Equal(bytes.AsSpan(12).ToArray(), Assert.Single(DequeueBytes(queue, driver.Pool)));
        Assert.Equal(0, queue.Stats.Faults);
        AssertNoLeak(driver);
    }

    [Fact]
    public void A_buffer_in_another_region_is_read_through_that_region()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        byte[] bytes = SplitPackets.WithHeader(12, SplitPackets.Frame(1000, 5));
        ulong inB = SplitRingDriver.RegionBGpa + 0x1000;
        bytes.CopyTo(driver.At(inB, bytes.Length));
        ushort a = driver.AllocDesc();
        driver.WriteDesc(a, inB, (uint)bytes.Length, VirtqDescFlags.None);
        driver.Track(a, [a]);
        driver.PushAvail(a);

        Assert.Equal(bytes.AsSpan(12).ToArray(), Assert.Single(DequeueBytes(queue, driver.Pool)));
        AssertNoLeak(driver);
    }

    // ---- offloads (virtio-net header → mbuf), VU-13 ----

    private static byte[] Ipv4Tcp(int payload)
    {
        var f = new byte[14 + 20 + 20 + payload];
        f.AsSpan(0, 12).Fill(0x02);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x0800);
        f[14] = 0x45;
        f[14 + 9] = 6;
        f[34 + 12] = 5 << 4;
        return f;
    }

    private static byte[] Ipv6Udp(int payload)
    {
        var f = new byte[14 + 4 + 40 + 8 + payload]; // one VLAN tag
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(12), 0x8100);
        BinaryPrimitives.WriteUInt16BigEndian(f.AsSpan(16), 0x86DD);
        f[18] = 0x60;
        f[18 + 6] = 17;
        return f;
    }

    private static Mbuf DequeueOne(SplitRingDriver driver, SplitVhostQueue queue, byte[] frame, VirtioNetHeader header)
    {
        driver.PostTx(SplitPackets.WithHeader(12, frame, header), int.MaxValue);
        var packets = new Mbuf[1];
        Assert.Equal(1, queue.Dequeue(driver.Pool, packets));
        Assert.Equal(frame, LabFrames.Bytes(packets[0]));
        return packets[0];
    }

    [Fact]
    public void Needs_csum_is_ignored_when_csum_was_not_negotiated()
    {
        using var driver = new SplitRingDriver(256, V1);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(100), new VirtioNetHeader { Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16 });
        Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
        m.Free();
        AssertNoLeak(driver);
    }

    [Fact]
    public void Needs_csum_for_tcp_over_ipv4_asks_for_the_tcp_checksum()
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(100), new VirtioNetHeader { Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16 });
        Assert.Equal(MbufOffloadFlags.TxIpv4 | MbufOffloadFlags.TxTcpChecksum, m.OffloadFlags);
        Assert.Equal((14, 20, 20), (m.L2Length, m.L3Length, m.L4Length));
        m.Free();
        AssertNoLeak(driver);
    }

    [Fact]
    public void Gso_tcpv4_asks_for_tso_with_the_segment_size()
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(5000), new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16,
            GsoType = VirtioNetHeader.GsoTcpV4 | VirtioNetHeader.GsoEcn, GsoSize = 1448, HdrLen = 54,
        });
        Assert.Equal(MbufOffloadFlags.TxIpv4 | MbufOffloadFlags.TxTcpChecksum | MbufOffloadFlags.TxTcpSegmentation | MbufOffloadFlags.TxIpChecksum, m.OffloadFlags);
        Assert.Equal(1448, m.TsoSegmentSize);
        m.Free();
        AssertNoLeak(driver);
    }

    [Fact]
    public void Needs_csum_for_udp_over_ipv6_behind_a_vlan_tag()
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv6Udp(64), new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 58, CsumOffset = 6, GsoType = VirtioNetHeader.GsoUdpL4, GsoSize = 1000,
        });
        Assert.Equal(MbufOffloadFlags.TxIpv6 | MbufOffloadFlags.TxUdpChecksum | MbufOffloadFlags.TxUdpSegmentation, m.OffloadFlags);
        Assert.Equal((18, 40, 8), (m.L2Length, m.L3Length, m.L4Length));
        Assert.Equal(1000, m.TsoSegmentSize);
        m.Free();
        AssertNoLeak(driver);
    }

    [Theory]
    [InlineData(5000, 16, 0, 0)]    // csum_start past the packet (CVE-2024-11614)
    [InlineData(34, 60000, 0, 0)]   // csum_offset past the packet
    [InlineData(10, 16, 0, 0)]      // csum_start inside the Ethernet header
    [InlineData(34, 12, 0, 0)]      // neither TCP nor UDP checksum offset
    [InlineData(0xFFFF, 0xFFFF, 0, 0)]
    public void Needs_csum_with_bad_offsets_is_ignored(int csumStart, int csumOffset, byte gsoType, ushort gsoSize)
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(100), new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = (ushort)csumStart, CsumOffset = (ushort)csumOffset, GsoType = gsoType, GsoSize = gsoSize,
        });
        Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
        m.Free();
        AssertNoLeak(driver);
    }

    [Theory]
    [InlineData(VirtioNetHeader.GsoTcpV4, 0)]   // gso_size 0 (DPDK 7023f3e532)
    [InlineData(VirtioNetHeader.GsoTcpV6, 1448)] // TCPv6 over IPv4
    [InlineData(VirtioNetHeader.GsoUdp, 1448)]   // UDP segmentation of a TCP checksum request
    [InlineData(0x33, 1448)]                    // unknown type
    public void Invalid_gso_keeps_the_checksum_offload_only(byte gsoType, ushort gsoSize)
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(3000), new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsCsum, CsumStart = 34, CsumOffset = 16, GsoType = gsoType, GsoSize = gsoSize,
        });
        Assert.Equal(MbufOffloadFlags.TxIpv4 | MbufOffloadFlags.TxTcpChecksum, m.OffloadFlags);
        m.Free();
        AssertNoLeak(driver);
    }

    [Fact]
    public void Gso_without_needs_csum_is_ignored()
    {
        using var driver = new SplitRingDriver(256, V1Csum);
        SplitVhostQueue queue = driver.CreateQueue();
        Mbuf m = DequeueOne(driver, queue, Ipv4Tcp(3000), new VirtioNetHeader { GsoType = VirtioNetHeader.GsoTcpV4, GsoSize = 1448, CsumStart = 34, CsumOffset = 16 });
        Assert.Equal(MbufOffloadFlags.None, m.OffloadFlags);
        m.Free();
        AssertNoLeak(driver);
    }
}
