using Hyperlane.Memory;
using Hyperlane.Vhost.Memory;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// A fake guest in process: native memory registered as guest RAM at made-up guest-physical and user addresses
/// (region 0), optionally a second region right after it in guest-physical space but elsewhere on the host
/// (a DIMM boundary). Two bump allocators: a permanent one (rings, tables) and a scratch one for packet buffers
/// that tests reset between bursts.
/// </summary>
internal sealed class PackedTestGuest : IDisposable
{
    public const ulong GuestBase = 0x10_0000;
    public const ulong UserBase = 0x7F00_0000_0000;
    public const ulong SecondUserBase = 0x7E00_0000_0000;

    private readonly MemoryRegion _ram;
    private readonly MemoryRegion? _second;
    private readonly long _scratchStart;
    private long _permanentNext;
    private long _scratchNext;

    public PackedTestGuest(long size = 16 << 20, long permanent = 4 << 20, long secondSize = 0)
    {
        var options = new RegionOptions { AllowHugepages = false };
        _ram = MemoryRegion.Create($"pk-guest-{Guid.NewGuid():N}", size, options);
        Size = size;
        _scratchStart = permanent;
        _scratchNext = permanent;
        var regions = new List<GuestMemoryRegion> { new(GuestBase, (ulong)size, UserBase, _ram.Address, _ram.Address, (ulong)size) };
        if (secondSize > 0)
        {
            _second = MemoryRegion.Create($"pk-guest2-{Guid.NewGuid():N}", secondSize, options);
            regions.Add(new(GuestBase + (ulong)size, (ulong)secondSize, SecondUserBase, _second.Address, _second.Address, (ulong)secondSize));
            SecondSize = secondSize;
        }

        Assert.True(GuestMemory.TryCreate(regions.ToArray(), out var memory, out var error), error);
        Memory = memory!;
    }

    public GuestMemory Memory { get; }

    public long Size { get; }

    public long SecondSize { get; }

    /// <summary>Guest-physical address one past region 0.</summary>
    public ulong End => GuestBase + (ulong)Size;

    public ulong UserOf(ulong gpa) => gpa >= End ? SecondUserBase + (gpa - End) : UserBase + (gpa - GuestBase);

    /// <summary>Permanent memory (rings, tables), <paramref name="align"/>-aligned.</summary>
    public ulong Alloc(long length, long align = 16)
    {
        _permanentNext = (_permanentNext + align - 1) & ~(align - 1);
        ulong gpa = GuestBase + (ulong)_permanentNext;
        _permanentNext += length;
        Assert.True(_permanentNext <= _scratchStart, "permanent guest memory exhausted");
        return gpa;
    }

    /// <summary>Scratch memory for packet buffers, until <see cref="ResetScratch"/>.</summary>
    public ulong Scratch(long length, long align = 8)
    {
        _scratchNext = (_scratchNext + align - 1) & ~(align - 1);
        ulong gpa = GuestBase + (ulong)_scratchNext;
        _scratchNext += length;
        Assert.True(_scratchNext <= Size, "scratch guest memory exhausted");
        return gpa;
    }

    public void ResetScratch() => _scratchNext = _scratchStart;

    /// <summary>Scratch bytes handed out since the last reset.</summary>
    public long ScratchUsed => _scratchNext - _scratchStart;

    /// <summary>The bytes at guest-physical <paramref name="gpa"/> (either region).</summary>
    public Span<byte> Bytes(ulong gpa, int length)
    {
        if (gpa >= End)
        {
            return _second!.AsSpan((long)(gpa - End), length);
        }

        return _ram.AsSpan((long)(gpa - GuestBase), length);
    }

    public void Write(ulong gpa, ReadOnlySpan<byte> data) => data.CopyTo(Bytes(gpa, data.Length));

    public void Dispose()
    {
        _ram.Dispose();
        _second?.Dispose();
    }
}
