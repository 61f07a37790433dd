using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Frontend;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The frontend's shared memory as a backend sees it: each region of a memory table mapped again from its memfd
/// (SharedMapping, as a real backend maps what SET_MEM_TABLE sent), addressed by guest-physical address.
/// </summary>
internal sealed class FrontendTestMemory : IDisposable
{
    private readonly List<(VhostMemoryRegion Region, SharedMapping Map)> _maps = [];

    public int Count => _maps.Count;

    public IReadOnlyList<VhostMemoryRegion> Regions => [.. _maps.Select(m => m.Region)];

    /// <summary>Maps every region of <paramref name="table"/> from its fd.</summary>
    public static FrontendTestMemory From(FrontendMemoryTable table)
    {
        var memory = new FrontendTestMemory();
        for (int i = 0; i < table.Count; i++)
        {
            memory.Add(table.Describe(i), table.Fd(i));
        }

        return memory;
    }

    public void Add(VhostMemoryRegion region, SafeFd fd) =>
        _maps.Add((region, SharedMapping.Map(fd, (long)region.MmapOffset, (long)region.MemorySize)));

    public bool IsMapped(ulong gpa, ulong length) =>
        _maps.Any(m => gpa >= m.Region.GuestPhysAddr && gpa - m.Region.GuestPhysAddr < m.Region.MemorySize && length <= m.Region.MemorySize - (gpa - m.Region.GuestPhysAddr));

    /// <summary>[gpa, + length) through the backend's mapping; throws if it is not wholly in one region.</summary>
    public Span<byte> Guest(ulong gpa, int length)
    {
        foreach ((VhostMemoryRegion r, SharedMapping map) in _maps)
        {
            if (gpa >= r.GuestPhysAddr && gpa - r.GuestPhysAddr < r.MemorySize && (ulong)length <= r.MemorySize - (gpa - r.GuestPhysAddr))
            {
                return map.AsSpan((nuint)(gpa - r.GuestPhysAddr), length);
            }
        }

        throw new InvalidOperationException($"guest address 0x{gpa:X} (+{length}) is in no region the backend mapped");
    }

    public ushort ReadU16(ulong gpa) => Volatile.Read(ref MemoryMarshal.AsRef<ushort>(Guest(gpa, 2)));

    public void WriteU16(ulong gpa, ushort value) => Volatile.Write(ref MemoryMarshal.AsRef<ushort>(Guest(gpa, 2)), value);

    public uint ReadU32(ulong gpa) => MemoryMarshal.Read<uint>(Guest(gpa, 4));

    public void WriteU32(ulong gpa, uint value) => MemoryMarshal.Write(Guest(gpa, 4), value);

    public ulong ReadU64(ulong gpa) => MemoryMarshal.Read<ulong>(Guest(gpa, 8));

    public void Dispose()
    {
        foreach ((_, SharedMapping map) in _maps)
        {
            map.Dispose();
        }

        _maps.Clear();
    }
}
