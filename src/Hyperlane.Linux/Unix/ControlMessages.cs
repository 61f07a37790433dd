using System.Runtime.CompilerServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// Ancillary-data arithmetic and flags for passing descriptors (sys/socket.h CMSG_* macros, unix(7),
/// include/net/scm.h for SCM_MAX_FD).
/// </summary>
internal static class ControlMessages
{
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int SO_PEERCRED = 17;

    public const int MSG_CTRUNC = 0x8;
    public const int MSG_DONTWAIT = 0x40;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;

    /// <summary>SCM_MAX_FD: the most descriptors one SCM_RIGHTS message may carry.</summary>
    public const int MaxDescriptors = 253;

    /// <summary>CMSG_ALIGN: control messages are aligned to sizeof(size_t).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Align(int length) => (length + nint.Size - 1) & ~(nint.Size - 1);

    /// <summary>Bytes of struct cmsghdr, aligned (CMSG_LEN(0)).</summary>
    public static int HeaderSize => Align(Unsafe.SizeOf<CmsgHdr>());

    /// <summary>CMSG_LEN: header plus <paramref name="dataLength"/> bytes, the value of cmsg_len.</summary>
    public static int Length(int dataLength) => HeaderSize + dataLength;

    /// <summary>CMSG_SPACE: the buffer room one message with <paramref name="dataLength"/> bytes takes.</summary>
    public static int Space(int dataLength) => HeaderSize + Align(dataLength);

    /// <summary>The control buffer that holds the largest SCM_RIGHTS message (SCM_MAX_FD descriptors).</summary>
    public static int MaxSpace => Space(MaxDescriptors * sizeof(int));
}
