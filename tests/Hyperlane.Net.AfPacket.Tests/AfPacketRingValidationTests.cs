using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Memory;
using Hyperlane.Net.AfPacket.Kernel;

namespace Hyperlane.Net.AfPacket.Tests;

/// <summary>
/// The TPACKET_V3 Rx walk (<see cref="RxRing"/> + <see cref="AfPacketRxQueue.Receive"/>) over hand-built blocks
/// holding hostile values in every offset and length the kernel writes. The ring is mapped with a PROT_NONE
/// guard page on each side, so a read outside it would kill the test host (SIGSEGV) rather than pass quietly.
/// The queue is driven without a socket: its port is an uninitialised <see cref="AfPacketEthDev"/> (the burst
/// reads only IsRemoved and PortId from it). No root needed.
/// </summary>
public sealed unsafe partial class AfPacketRingValidationTests
{
    private const int Block = 4096;
    private static int poolCounter;

    [Fact]
    public void Good_blocks_deliver_every_packet_and_go_back_to_the_kernel()
    {
        using var t = new Harness(Block, 2);
        t.SetBlock(0, numPkts: 3, first: 48);
        int o1 = 48, o2 = 48 + 160, o3 = o2 + 256;
        t.SetPacket(0, o1, next: (uint)(o2 - o1), snaplen: 60, len: 60, mac: 82, seed: 1);
        t.SetPacket(0, o2, next: (uint)(o3 - o2), snaplen: 100, len: 100, mac: 82, seed: 2, vlanTci: 100);
        t.SetPacket(0, o3, next: 0, snaplen: 1500, len: 1500, mac: 82, seed: 3);
        t.SetBlock(1, numPkts: 1, first: 64);
        t.SetPacket(1, 64, next: 0, snaplen: 42, len: 42, mac: 48, seed: 4);

        var got = t.ReceiveAll();
        Assert.Equal(4, got.Count);
        Assert.Equal(Harness.Pattern(60, 1), got[0].Bytes);
        Assert.Equal(Harness.Pattern(100, 2), got[1].Bytes);
        Assert.Equal(Harness.Pattern(1500, 3), got[2].Bytes);
        Assert.Equal(Harness.Pattern(42, 4), got[3].Bytes);
        Assert.Equal(100, got[1].VlanTci);
        Assert.True((got[1].Flags & MbufOffloadFlags.RxVlanStripped) != 0);
        Assert.True((got[0].Flags & MbufOffloadFlags.RxVlanStripped) == 0);
        Assert.Equal(0, t.Queue.Counters.Errors);
        Assert.Equal(4, t.Queue.Counters.Packets);
        Assert.True(t.Released(0));
        Assert.True(t.Released(1));
    }

    [Fact]
    public void A_block_the_kernel_still_owns_is_not_touched()
    {
        using var t = new Harness(Block, 2);
        t.SetBlock(0, numPkts: 1, first: 48, status: PacketConstants.TP_STATUS_KERNEL);
        t.SetPacket(0, 48, 0, 60, 60, 82, 1);
        Assert.Empty(t.ReceiveAll());
        Assert.Equal(0, t.Queue.Counters.Errors);
        Assert.Equal(0, t.Queue.Counters.Packets);
    }

    [Theory]
    [InlineData(0u)] // over the block descriptor
    [InlineData(47u)]
    [InlineData((uint)(Block - 47))] // header would cross the end of the block
    [InlineData((uint)Block)]
    [InlineData((uint)Block + 48)] // inside the next block
    [InlineData(0x7fffffffu)]
    [InlineData(0xffffffffu)]
    public void Offset_to_first_pkt_outside_the_block_drops_the_block(uint first)
    {
        using var t = new Harness(Block, 2);
        t.SetBlock(0, numPkts: 5, first: first);
        t.SetBlock(1, numPkts: 1, first: 48);
        t.SetPacket(1, 48, 0, 60, 60, 82, 7);

        var got = t.ReceiveAll();
        Assert.Single(got); // only block 1's packet: the queue carried on after the bad block
        Assert.Equal(Harness.Pattern(60, 7), got[0].Bytes);
        Assert.Equal(5, t.Queue.Counters.Errors);
        Assert.True(t.Released(0));
        Assert.True(t.Released(1));
    }

    [Fact]
    public void Huge_num_pkts_stops_at_the_first_header_that_does_not_fit()
    {
        using var t = new Harness(Block, 2);
        t.SetBlock(0, numPkts: uint.MaxValue, first: 48);
        t.SetPacket(0, 48, next: 160, 60, 60, 82, 1);
        t.SetPacket(0, 208, next: 160, 60, 60, 82, 2);
        // at 368: zeros (tp_mac 0 < sizeof(tpacket3_hdr)), so the walk must stop there

        var got = t.ReceiveAll();
        Assert.Equal(2, got.Count);
        Assert.True(t.Queue.Counters.Errors > 0);
        Assert.True(t.Queue.Counters.Errors <= Block); // num_pkts is capped, not trusted
        Assert.True(t.Released(0));
    }

    [Fact]
    public void Huge_num_pkts_over_valid_but_tiny_strides_ends_inside_the_block()
    {
        // Every 48 bytes a header that is valid on its own (mac 48, snaplen 0 → counted error): the walk
        // must end at the block's end however many packets the descriptor claims.
        using var t = new Harness(Block, 1);
        t.SetBlock(0, numPkts: uint.MaxValue, first: 48);
        for (int off = 48; off + 48 <= Block; off += 48)
        {
            t.SetPacket(0, off, next: 48, snaplen: 0, len: 0, mac: 48, seed: 0, writeData: false);
        }

        Assert.Empty(t.ReceiveAll());
        Assert.True(t.Released(0));
        Assert.InRange(t.Queue.Counters.Errors, 1, Block);
    }

    [Theory]
    [InlineData(0u)] // loops to itself
    [InlineData((uint)Block)] // past the block
    [InlineData((uint)Block - 48 - 47)] // next header would cross the end of the block
    [InlineData(0x80000000u)]
    [InlineData(0xffffffffu)]
    public void Bad_tp_next_offset_drops_the_rest_of_the_block(uint next)
    {
        using var t = new Harness(Block, 1);
        t.SetBlock(0, numPkts: 3, first: 48);
        t.SetPacket(0, 48, next, 60, 60, 82, 1);

        var got = t.ReceiveAll();
        Assert.Single(got);
        Assert.Equal(Harness.Pattern(60, 1), got[0].Bytes);
        Assert.Equal(2, t.Queue.Counters.Errors);
        Assert.True(t.Released(0));
    }

    [Theory]
    [InlineData((ushort)82, (uint)Block)] // data runs past the block
    [InlineData((ushort)82, (uint)(Block - 48 - 82 + 1))] // one byte past the block
    [InlineData((ushort)0xffff, 1u)] // tp_mac past the block
    [InlineData((ushort)82, 0xffffffffu)] // tp_mac + tp_snaplen overflows 32 bits
    [InlineData((ushort)82, 70000u)] // tp_snaplen > 65535
    [InlineData((ushort)0, 60u)] // data would be the header itself
    [InlineData((ushort)47, 60u)]
    public void Tp_mac_and_tp_snaplen_outside_the_block_are_rejected(ushort mac, uint snaplen)
    {
        using var t = new Harness(Block, 1);
        t.SetBlock(0, numPkts: 2, first: 48);
        t.SetPacket(0, 48, next: 160, snaplen, snaplen, mac, 1, writeData: false);
        t.SetPacket(0, 208, next: 0, 60, 60, 82, 2);

        var got = t.ReceiveAll();
        Assert.Empty(got); // the walk cannot trust the rest of a block once a header is bad
        Assert.Equal(2, t.Queue.Counters.Errors);
        Assert.True(t.Released(0));
    }

    [Fact]
    public void Last_byte_of_the_block_is_still_a_packet()
    {
        using var t = new Harness(Block, 1);
        int snap = Block - 48 - 82;
        t.SetBlock(0, numPkts: 1, first: 48);
        t.SetPacket(0, 48, 0, (uint)snap, (uint)snap, 82, 5);
        var got = t.ReceiveAll();
        Assert.Single(got);
        Assert.Equal(Harness.Pattern(snap, 5), got[0].Bytes);
        Assert.Equal(0, t.Queue.Counters.Errors);
    }

    [Fact]
    public void Truncated_and_empty_packets_are_counted_and_skipped()
    {
        using var t = new Harness(Block, 1);
        t.SetBlock(0, numPkts: 3, first: 48);
        t.SetPacket(0, 48, next: 160, snaplen: 60, len: 1500, mac: 82, seed: 1); // truncated by the ring
        t.SetPacket(0, 208, next: 160, snaplen: 0, len: 0, mac: 82, seed: 2); // empty
        t.SetPacket(0, 368, next: 0, snaplen: 60, len: 60, mac: 82, seed: 3);

        var got = t.ReceiveAll();
        Assert.Single(got);
        Assert.Equal(Harness.Pattern(60, 3), got[0].Bytes);
        Assert.Equal(2, t.Queue.Counters.Errors);
        Assert.True(t.Released(0));
    }

    [Fact]
    public void RxRing_Bytes_refuses_ranges_outside_the_block()
    {
        using var t = new Harness(Block, 1);
        Assert.Equal(10, t.Ring.Bytes(0, Block - 10, 10).Length);
        Assert.True(t.Ring.Bytes(0, Block - 10, 11).IsEmpty);
        Assert.True(t.Ring.Bytes(0, -1, 1).IsEmpty);
        Assert.True(t.Ring.Bytes(0, 0, -1).IsEmpty);
        Assert.True(t.Ring.Bytes(0, Block + 1, 0).IsEmpty);
        Assert.True(t.Ring.Bytes(0, int.MaxValue, int.MaxValue).IsEmpty);
    }

    /// <summary>
    /// A packet longer than an mbuf chain can hold (tp_snaplen = tp_len = 70000 in a 128 KiB block: real with
    /// blocksz=131072 and a 64 KiB-MTU veth) must be counted and skipped so the queue moves on.
    /// </summary>
    [Fact]
    public void Packet_longer_than_an_mbuf_chain_is_skipped_not_retried_forever()
    {
        const int big = 1 << 17;
        using var t = new Harness(big, 1, poolSize: 1024);
        t.SetBlock(0, numPkts: 2, first: 48);
        t.SetPacket(0, 48, next: 70160, snaplen: 70000, len: 70000, mac: 82, seed: 1);
        t.SetPacket(0, 48 + 70160, next: 0, snaplen: 60, len: 60, mac: 82, seed: 2);

        var got = t.ReceiveAll();
        Assert.Single(got);
        Assert.Equal(Harness.Pattern(60, 2), got[0].Bytes);
        Assert.True(t.Released(0));
        Assert.Equal(1, t.Queue.Counters.Errors);
    }

    private sealed record Received(byte[] Bytes, MbufOffloadFlags Flags, ushort VlanTci);

    /// <summary>A mapped ring with guard pages, a pool and a queue over them.</summary>
    private sealed class Harness : IDisposable
    {
        private const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapPrivate = 0x02, MapAnonymous = 0x20;
        private readonly nint map;
        private readonly nuint mapLength;
        private readonly byte* start;
        private readonly int blockSize;
        private readonly Mempool pool;

        public Harness(int blockSize, int blocks, int poolSize = 512)
        {
            int page = Environment.SystemPageSize;
            this.blockSize = blockSize;
            mapLength = (nuint)(page + ((long)blockSize * blocks) + page);
            map = Native.Mmap(0, mapLength, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
            Assert.NotEqual(-1, map);
            start = (byte*)map + page;
            Assert.Equal(0, Native.Mprotect(map, (nuint)page, ProtNone));
            Assert.Equal(0, Native.Mprotect((nint)(start + ((long)blockSize * blocks)), (nuint)page, ProtNone));
            Ring = new RxRing((nint)start, blockSize, blocks);
            pool = Mempool.CreatePacketPool($"afp-ring-{Environment.ProcessId}-{Interlocked.Increment(ref poolCounter)}", poolSize, cacheSize: 0);
            var port = (AfPacketEthDev)RuntimeHelpers.GetUninitializedObject(typeof(AfPacketEthDev));
            Queue = new AfPacketRxQueue(0, 64, pool, port, Ring);
        }

        public RxRing Ring { get; }

        public AfPacketRxQueue Queue { get; }

        public static byte[] Pattern(int length, byte seed)
        {
            var b = new byte[length];
            for (int i = 0; i < b.Length; i++)
            {
                b[i] = (byte)((i * 13) + seed);
            }

            return b;
        }

        public void SetBlock(int block, uint numPkts, uint first, uint status = PacketConstants.TP_STATUS_USER)
        {
            var d = (TpacketBlockDesc*)(start + ((long)block * blockSize));
            d->Version = 1;
            d->BlockStatus = status;
            d->NumPkts = numPkts;
            d->OffsetToFirstPkt = first;
            d->BlkLen = (uint)blockSize;
        }

        public void SetPacket(int block, int offset, uint next, uint snaplen, uint len, ushort mac, byte seed, ushort? vlanTci = null, bool writeData = true)
        {
            byte* b = start + ((long)block * blockSize);
            var h = (Tpacket3Hdr*)(b + offset);
            h->NextOffset = next;
            h->Snaplen = snaplen;
            h->Len = len;
            h->Mac = mac;
            h->Net = (ushort)(mac + 14);
            h->Status = PacketConstants.TP_STATUS_USER | (vlanTci is null ? 0 : PacketConstants.TP_STATUS_VLAN_VALID);
            h->VlanTci = vlanTci ?? 0;
            h->RxHash = 0x1234;
            if (writeData)
            {
                Pattern((int)snaplen, seed).CopyTo(new Span<byte>(b + offset + mac, (int)snaplen));
            }
        }

        /// <summary>Whether the queue gave block <paramref name="block"/> back (TP_STATUS_KERNEL).</summary>
        public bool Released(int block) =>
            Volatile.Read(ref ((TpacketBlockDesc*)(start + ((long)block * blockSize)))->BlockStatus) == PacketConstants.TP_STATUS_KERNEL;

        /// <summary>Bursts until the queue returns nothing twice in a row (bounded); copies and frees every mbuf.</summary>
        public List<Received> ReceiveAll()
        {
            var got = new List<Received>();
            var burst = new Mbuf[32];
            int idle = 0;
            for (int i = 0; i < 1000 && idle < 2; i++)
            {
                int n = Queue.Receive(burst);
                idle = n == 0 ? idle + 1 : 0;
                for (int k = 0; k < n; k++)
                {
                    got.Add(new Received(AfPacketLab.ToArray(burst[k]), burst[k].OffloadFlags, burst[k].VlanTci));
                }

                Mbuf.FreeBulk(burst.AsSpan(0, n));
            }

            return got;
        }

        public void Dispose()
        {
            Queue.Release();
            Assert.Equal(0, pool.Audit().InUse);
            pool.Dispose();
            _ = Native.Munmap(map, mapLength);
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "mmap")]
        public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

        [LibraryImport("libc", EntryPoint = "mprotect")]
        public static partial int Mprotect(nint addr, nuint length, int prot);

        [LibraryImport("libc", EntryPoint = "munmap")]
        public static partial int Munmap(nint addr, nuint length);
    }
}
