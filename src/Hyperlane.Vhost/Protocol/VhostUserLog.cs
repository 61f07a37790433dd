using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// VhostUserLog (vhost-user.rst "Payload" / "Log description"), 16 bytes: mmap_size u64, mmap_offset u64.
/// Payload of SET_LOG_BASE (the message list still says "u64"; QEMU and DPDK send these 16 bytes). The log
/// bitmap starts at <see cref="MmapOffset"/> in the fd ("where guest address 0 would be logged") and is
/// <see cref="MmapSize"/> bytes long. <c>MmapOffset + MmapSize</c> must not overflow (CVE-2020-10722).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostUserLog
{
    /// <summary>sizeof(VhostUserLog).</summary>
    public const int Size = 16;

    /// <summary>mmap_size: bytes of bitmap.</summary>
    public ulong MmapSize;

    /// <summary>mmap_offset: offset of the bitmap in the fd.</summary>
    public ulong MmapOffset;

    /// <summary>A log description.</summary>
    public VhostUserLog(ulong mmapSize, ulong mmapOffset)
    {
        MmapSize = mmapSize;
        MmapOffset = mmapOffset;
    }
}
