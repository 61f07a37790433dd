using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// One ready descriptor from <see cref="Epoll.Wait"/>: struct epoll_event (include/uapi/linux/eventpoll.h)
/// as x86-64 lays it out, packed (EPOLL_PACKED): 12 bytes, the data at offset 4. On architectures whose
/// kernel struct is naturally aligned (arm64: 16 bytes, data at offset 8) <see cref="Epoll"/> converts.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct EpollEvent
{
    /// <summary>events: what is ready.</summary>
    public EpollEvents Events;

    /// <summary>data: the value given to <see cref="Epoll.Add(int, EpollEvents, ulong)"/> for this descriptor.</summary>
    public ulong Data;

    public EpollEvent(EpollEvents events, ulong data)
    {
        Events = events;
        Data = data;
    }
}
