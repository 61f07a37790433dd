namespace Hyperlane.Vhost.Protocol;

/// <summary>Why <see cref="VhostUserMessageDecoder"/> rejected a message (the text it returns names the details).</summary>
public enum VhostUserDecodeError
{
    /// <summary>No error.</summary>
    None = 0,

    /// <summary>The header span is not 12 bytes.</summary>
    HeaderLength,

    /// <summary>The version bits (flags bits 0-1) are not 0x1.</summary>
    BadVersion,

    /// <summary>A request (frontend → backend) has the REPLY flag.</summary>
    ReplyFlagOnRequest,

    /// <summary>Flag bits other than version, REPLY and NEED_REPLY are set (or NEED_REPLY on a reply).</summary>
    ReservedFlags,

    /// <summary>The request number is not a front-end message type of the spec.</summary>
    UnknownRequest,

    /// <summary>The request is known but Hyperlane does not implement it (its feature is never offered).</summary>
    UnsupportedRequest,

    /// <summary>The header's size is larger than the largest payload (<see cref="VhostUserMessageDecoder.MaxPayloadSize"/>).</summary>
    PayloadTooLarge,

    /// <summary>The payload span length differs from the header's size.</summary>
    PayloadLength,

    /// <summary>The header's size differs from what the request requires.</summary>
    PayloadSize,

    /// <summary>The number of fds received differs from what the request requires.</summary>
    FdCount,

    /// <summary>nregions is 0 or larger than 8.</summary>
    RegionCount,

    /// <summary>A memory region has size 0.</summary>
    EmptyRegion,

    /// <summary>A memory region's guest address + size, user address + size or mmap offset + size overflows u64.</summary>
    RegionOverflow,

    /// <summary>Two memory regions overlap in guest-physical or in user address space.</summary>
    RegionOverlap,

    /// <summary>A vring index is 256 or more (the 8-bit index space of SET_VRING_KICK/CALL/ERR).</summary>
    VringIndex,

    /// <summary>Payload bits the spec defines as reserved or absent are set.</summary>
    ReservedBits,

    /// <summary>A payload value is out of the range the spec allows (ring size, MTU, status, enable flag, log size...).</summary>
    InvalidValue,

    /// <summary>A reply lacks the REPLY flag.</summary>
    NotAReply,

    /// <summary>A reply answers another request than the one sent.</summary>
    RequestMismatch,
}
