using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// struct msghdr (sys/socket.h, glibc): natural alignment, 56 bytes on 64-bit targets. msg_iovlen and
/// msg_controllen are size_t in glibc (musl pads ints to the same offsets).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    /// <summary>msg_name: peer address (unused on connected stream sockets).</summary>
    public void* Name;

    /// <summary>msg_namelen.</summary>
    public uint NameLength;

    /// <summary>msg_iov.</summary>
    public IoVec* Iov;

    /// <summary>msg_iovlen.</summary>
    public nuint IovLength;

    /// <summary>msg_control: ancillary data (struct cmsghdr sequence).</summary>
    public void* Control;

    /// <summary>msg_controllen: buffer size on input; bytes the kernel wrote on return from recvmsg.</summary>
    public nuint ControlLength;

    /// <summary>msg_flags: set by recvmsg (MSG_CTRUNC, MSG_TRUNC).</summary>
    public int Flags;
}
