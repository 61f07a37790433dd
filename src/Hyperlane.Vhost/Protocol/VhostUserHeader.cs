using System.Runtime.InteropServices;

namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// The vhost-user message header (vhost-user.rst "Message Specification" / "Header"), 12 bytes, machine byte
/// order: request u32, flags u32, size u32 (the payload size that follows). The whole VhostUserMsg is
/// QEMU_PACKED.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1, Size = Size)]
public struct VhostUserHeader
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 12;

    /// <summary>Flags bits 0-1: the protocol version.</summary>
    public const uint VersionMask = 0x3;

    /// <summary>The only protocol version (0x1).</summary>
    public const uint Version = 0x1;

    /// <summary>Flags bit 2: set on every reply (backend → frontend answer, or frontend answer on the backend channel).</summary>
    public const uint ReplyFlag = 0x4;

    /// <summary>Flags bit 3: the sender wants a reply (REPLY_ACK).</summary>
    public const uint NeedReplyFlag = 0x8;

    /// <summary>Flag bits the spec defines; any other bit is reserved.</summary>
    public const uint KnownFlags = VersionMask | ReplyFlag | NeedReplyFlag;

    /// <summary>request: a <see cref="VhostUserRequest"/> (or <see cref="VhostUserBackendRequest"/> on the backend channel).</summary>
    public uint Request;

    /// <summary>flags: version, REPLY, NEED_REPLY.</summary>
    public uint Flags;

    /// <summary>size: payload bytes that follow the header.</summary>
    public uint PayloadSize;

    /// <summary>A header.</summary>
    public VhostUserHeader(uint request, uint flags, uint size)
    {
        Request = request;
        Flags = flags;
        PayloadSize = size;
    }

    /// <summary>The version bits.</summary>
    public readonly uint VersionBits => Flags & VersionMask;

    /// <summary>Whether the REPLY flag is set.</summary>
    public readonly bool IsReply => (Flags & ReplyFlag) != 0;

    /// <summary>Whether the NEED_REPLY flag is set.</summary>
    public readonly bool NeedReply => (Flags & NeedReplyFlag) != 0;
}
