using System.Buffers.Binary;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Guest RAM for the session tests, as a frontend shares it: a memfd (its name unique, so /proc/self/maps shows its
/// mappings), mapped here too so the test can lay out rings and read what the backend wrote. Guest-physical 0 is at
/// file offset <see cref="FileOffset"/>; the frontend's "user" address of guest-physical 0 is <see cref="UserBase"/>.
/// </summary>
internal sealed class SessionTestGuest : IDisposable
{
    public const ulong UserBase = 0x7F00_0000_0000;

    private static int counter;

    public SessionTestGuest(ulong size = 4 << 20, ulong fileOffset = 0)
    {
        Size = size;
        FileOffset = fileOffset;
        Name = $"hl-vu-guest-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}";
        SysResult r = MemFd.TryCreate(Name, MemFd.MFD_CLOEXEC, (long)(fileOffset + size), out SafeFd? fd);
        Assert.True(r.IsSuccess, $"memfd_create: {r.Error}");
        Fd = fd!;
        Mapping = SharedMapping.Map(Fd, (long)fileOffset, (long)size);
    }

    public string Name { get; }

    public ulong Size { get; }

    public ulong FileOffset { get; }

    public SafeFd Fd { get; }

    public SharedMapping Mapping { get; }

    /// <summary>The whole RAM as one region.</summary>
    public VhostMemoryRegion Region => new(0, Size, UserBase, FileOffset);

    /// <summary>Part of the RAM as a region: guest-physical [gpa, gpa + size).</summary>
    public VhostMemoryRegion RegionAt(ulong gpa, ulong size) => new(gpa, size, UserBase + gpa, FileOffset + gpa);

    public static ulong User(ulong gpa) => UserBase + gpa;

    public Span<byte> At(ulong gpa, int length) => Mapping.AsSpan((nuint)gpa, length);

    public ushort ReadU16(ulong gpa) => BinaryPrimitives.ReadUInt16LittleEndian(At(gpa, 2));

    public uint ReadU32(ulong gpa) => BinaryPrimitives.ReadUInt32LittleEndian(At(gpa, 4));

    public void WriteU16(ulong gpa, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(At(gpa, 2), value);

    public void WriteU32(ulong gpa, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(At(gpa, 4), value);

    public void WriteU64(ulong gpa, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(At(gpa, 8), value);

    public void Dispose()
    {
        Mapping.Dispose();
        Fd.Dispose();
    }
}
