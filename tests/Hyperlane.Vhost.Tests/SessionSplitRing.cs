using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The driver side of one split virtqueue (virtio 1.2 §2.7) laid out in <see cref="SessionTestGuest"/> RAM: a minimal
/// layout of its own (SplitRingDriver keeps its RAM in a managed array, which cannot be shared through an fd).
/// One descriptor per buffer, descriptor i used for the i-th buffer posted.
/// </summary>
internal sealed class SessionSplitRing
{
    private readonly SessionTestGuest _guest;
    private ushort _nextDesc;

    public SessionSplitRing(SessionTestGuest guest, int index, ulong descGpa, ulong availGpa, ulong usedGpa, int size = 256)
    {
        _guest = guest;
        Index = index;
        DescGpa = descGpa;
        AvailGpa = availGpa;
        UsedGpa = usedGpa;
        Size = size;
    }

    public int Index { get; }

    public ulong DescGpa { get; }

    public ulong AvailGpa { get; }

    public ulong UsedGpa { get; }

    public int Size { get; }

    /// <summary>The driver's avail->idx.</summary>
    public ushort AvailIdx { get; private set; }

    public ushort UsedIdx => _guest.ReadU16(UsedGpa + 2);

    /// <summary>Ring rx 0 at 0x1000/0x2000/0x3000, tx 1 at 0x4000/0x5000/0x6000; buffers from 0x10000.</summary>
    public static SessionSplitRing Standard(SessionTestGuest guest, int index) =>
        new(guest, index, 0x1000 + (0x3000UL * (ulong)index), 0x2000 + (0x3000UL * (ulong)index), 0x3000 + (0x3000UL * (ulong)index));

    public VhostVringAddr Addr(bool log = false) =>
        new((uint)Index, log ? VhostVringAddr.FlagLog : 0, SessionTestGuest.User(DescGpa), SessionTestGuest.User(UsedGpa), SessionTestGuest.User(AvailGpa), UsedGpa);

    /// <summary>Starts the driver's avail index (and the used index the device will read) at <paramref name="index"/>.</summary>
    public void StartAt(ushort index)
    {
        AvailIdx = index;
        _guest.WriteU16(AvailGpa + 2, index);
        _guest.WriteU16(UsedGpa + 2, index);
    }

    /// <summary>Posts a device-writable buffer (receive).</summary>
    public ushort PostRx(ulong bufferGpa, uint length) => Post(bufferGpa, length, VirtqDescFlags.Write);

    /// <summary>Copies <paramref name="bytes"/> (virtio-net header + frame) to <paramref name="bufferGpa"/> and posts it (transmit).</summary>
    public ushort PostTx(ulong bufferGpa, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_guest.At(bufferGpa, bytes.Length));
        return Post(bufferGpa, (uint)bytes.Length, VirtqDescFlags.None);
    }

    public (uint Id, uint Length) UsedElem(ushort index)
    {
        ulong at = UsedGpa + 4 + (8UL * (ulong)(index % Size));
        return (_guest.ReadU32(at), _guest.ReadU32(at + 4));
    }

    private ushort Post(ulong bufferGpa, uint length, VirtqDescFlags flags)
    {
        ushort d = (ushort)(_nextDesc++ % Size);
        ulong at = DescGpa + (16UL * d);
        _guest.WriteU64(at, bufferGpa);
        _guest.WriteU32(at + 8, length);
        _guest.WriteU16(at + 12, (ushort)flags);
        _guest.WriteU16(at + 14, 0);
        _guest.WriteU16(AvailGpa + 4 + (2UL * (ulong)(AvailIdx % Size)), d);
        AvailIdx++;
        Thread.MemoryBarrier();
        _guest.WriteU16(AvailGpa + 2, AvailIdx);
        return d;
    }
}
