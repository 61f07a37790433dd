namespace Hyperlane.Linux.Unix;

/// <summary>Event bits of struct epoll_event (include/uapi/linux/eventpoll.h).</summary>
[Flags]
public enum EpollEvents : uint
{
    None = 0,

    /// <summary>EPOLLIN: readable (data, a connection to accept, or end of stream).</summary>
    In = 0x001,

    /// <summary>EPOLLPRI: urgent data.</summary>
    Pri = 0x002,

    /// <summary>EPOLLOUT: writable.</summary>
    Out = 0x004,

    /// <summary>EPOLLERR: an error is pending (always reported, no need to ask).</summary>
    Err = 0x008,

    /// <summary>EPOLLHUP: hang up, both directions closed (always reported).</summary>
    Hup = 0x010,

    /// <summary>EPOLLRDHUP: the peer closed its end or shut down writing.</summary>
    RdHup = 0x2000,

    /// <summary>EPOLLEXCLUSIVE: wake one of several epoll instances waiting on the same file.</summary>
    Exclusive = 1u << 28,

    /// <summary>EPOLLONESHOT: disarm after one event until re-armed with Modify.</summary>
    OneShot = 1u << 30,

    /// <summary>EPOLLET: edge-triggered.</summary>
    Et = 1u << 31,
}
