using System.Globalization;
using System.Runtime.CompilerServices;
using Hyperlane.Memory;

namespace Hyperlane.Core.Ports;

/// <summary>
/// Per-queue counters of what kind of packets went through (RFC 2819 size bins, unicast/multicast/broadcast), as
/// DPDK's vhost and virtio PMDs keep for their extended statistics. Only the lcore polling the queue counts (plain
/// increments); the control thread reads with <see cref="AddTo"/>. They only grow.
/// </summary>
public sealed class PacketClassCounters
{
    /// <summary>Number of size bins: undersize (&lt; 64), 64, 65–127, 128–255, 256–511, 512–1023, 1024–1518, 1519 and more.</summary>
    public const int SizeBinCount = 8;

    private readonly long[] sizeBins = new long[SizeBinCount];
    private long multicast;
    private long broadcast;
    private long unicast;

    private readonly uint largeFrameLimit;

    /// <summary>
    /// Counters whose second-largest bin ends at <paramref name="largeFrameLimit"/> bytes: 1518 for DPDK's virtio
    /// (size_1024_1518 / size_1519_max), 1522 for DPDK's vhost (size_1024_to_1522 / size_1523_to_max).
    /// </summary>
    public PacketClassCounters(int largeFrameLimit = 1518)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(largeFrameLimit, 1024);
        this.largeFrameLimit = (uint)largeFrameLimit;
    }

    /// <summary>Counts one packet by its length and destination MAC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Count(Mbuf packet) => Add(Classify(packet));

    /// <summary>
    /// The class of <paramref name="packet"/> as one byte (size bin × 4 + 0 unicast, 1 multicast, 2 broadcast), for a
    /// queue that must look at a packet before handing it over and count it only once it is known to be taken.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte Classify(Mbuf packet)
    {
        uint length = packet.PacketLength;
        int bin = length switch
        {
            < 64 => 0,
            64 => 1,
            < 128 => 2,
            < 256 => 3,
            < 512 => 4,
            < 1024 => 5,
            _ => length <= largeFrameLimit ? 6 : 7,
        };
        int cast = 0;
        ReadOnlySpan<byte> data = packet.Data;
        if (data.Length >= 6 && (data[0] & 1) != 0)
        {
            cast = (data[0] & data[1] & data[2] & data[3] & data[4] & data[5]) == 0xFF ? 2 : 1;
        }

        return (byte)((bin << 2) | cast);
    }

    /// <summary>Counts a packet classified with <see cref="Classify"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(byte code)
    {
        sizeBins[code >> 2]++;
        switch (code & 3)
        {
            case 0:
                unicast++;
                break;
            case 1:
                multicast++;
                break;
            default:
                broadcast++;
                break;
        }
    }

    /// <summary>Counts each packet of <paramref name="packets"/>.</summary>
    public void Count(ReadOnlySpan<Mbuf> packets)
    {
        foreach (Mbuf m in packets)
        {
            Count(m);
        }
    }

    /// <summary>
    /// Appends the counters as <c>{prefix}{name}</c> extended statistics, using <paramref name="names"/>: the names of
    /// the multicast, broadcast and unicast counters, then of the <see cref="SizeBinCount"/> size bins.
    /// A null name leaves that counter out (DPDK's virtio has no unicast counter).
    /// </summary>
    public void AddTo(List<XStat> xstats, string prefix, ReadOnlySpan<string?> names)
    {
        ArgumentNullException.ThrowIfNull(xstats);
        if (names.Length != 3 + SizeBinCount)
        {
            throw new ArgumentException($"{3 + SizeBinCount} names expected, {names.Length} given", nameof(names));
        }

        Span<long> now = stackalloc long[3 + SizeBinCount];
        Read(now);
        for (int i = 0; i < now.Length; i++)
        {
            if (names[i] is { } name)
            {
                xstats.Add(new XStat(string.Create(CultureInfo.InvariantCulture, $"{prefix}{name}"), now[i]));
            }
        }
    }

    private void Read(Span<long> values)
    {
        values[0] = Volatile.Read(ref multicast);
        values[1] = Volatile.Read(ref broadcast);
        values[2] = Volatile.Read(ref unicast);
        for (int i = 0; i < SizeBinCount; i++)
        {
            values[3 + i] = Volatile.Read(ref sizeBins[i]);
        }
    }
}
