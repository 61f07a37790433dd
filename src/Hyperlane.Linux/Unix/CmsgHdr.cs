using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>struct cmsghdr (sys/socket.h): the header of one control message, 16 bytes on 64-bit targets.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CmsgHdr
{
    /// <summary>cmsg_len: header plus data, without trailing padding (CMSG_LEN).</summary>
    public nuint Length;

    /// <summary>cmsg_level, e.g. SOL_SOCKET.</summary>
    public int Level;

    /// <summary>cmsg_type, e.g. SCM_RIGHTS.</summary>
    public int Type;
}
