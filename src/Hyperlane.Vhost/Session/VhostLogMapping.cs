using System.Globalization;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// The dirty log SET_LOG_BASE shared: the log fd mapped read-write, shared, for mmap_size bytes from mmap_offset,
/// and the <see cref="DirtyLog"/> over it. The bitmap starts at the mapping's first byte: the offset is applied once
/// (DPDK since bdd96d8ac7 applies it twice, hardening.md §1.2). Disposing unmaps it.
/// </summary>
internal sealed class VhostLogMapping : IDisposable
{
    private readonly SharedMapping _mapping;

    private VhostLogMapping(SharedMapping mapping, VhostUserLog description)
    {
        _mapping = mapping;
        Description = description;
        Log = new DirtyLog(mapping.Pointer, description.MmapSize);
    }

    /// <summary>The log over the mapping.</summary>
    public DirtyLog Log { get; }

    /// <summary>What SET_LOG_BASE said.</summary>
    public VhostUserLog Description { get; }

    /// <summary>Maps the log (<paramref name="fd"/> stays the caller's to close).</summary>
    /// <exception cref="VhostUserProtocolException">The log cannot be mapped.</exception>
    public static VhostLogMapping Map(SafeFd fd, VhostUserLog log)
    {
        // The decoder already refused size 0 and offset + size overflowing u64 (CVE-2020-10722).
        if (log.MmapOffset > long.MaxValue || log.MmapSize > (ulong)(long.MaxValue - (long)log.MmapOffset))
        {
            throw new VhostUserProtocolException(string.Create(CultureInfo.InvariantCulture, $"log of 0x{log.MmapSize:X} bytes at offset 0x{log.MmapOffset:X} does not fit a file offset"));
        }

        SharedMapping mapping;
        try
        {
            mapping = SharedMapping.Map(fd, (long)log.MmapOffset, (long)log.MmapSize, writable: true);
        }
        catch (Exception ex) when (ex is ArgumentException or LinuxException)
        {
            throw new VhostUserProtocolException(string.Create(CultureInfo.InvariantCulture, $"log of 0x{log.MmapSize:X} bytes at offset 0x{log.MmapOffset:X} cannot be mapped: {ex.Message}"), ex);
        }

        return new VhostLogMapping(mapping, log);
    }

    /// <summary>Unmaps the log.</summary>
    public void Dispose() => _mapping.Dispose();
}
