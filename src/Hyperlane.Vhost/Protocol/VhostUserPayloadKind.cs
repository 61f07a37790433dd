namespace Hyperlane.Vhost.Protocol;

/// <summary>The shape of a vhost-user payload (vhost-user.rst "Payload").</summary>
public enum VhostUserPayloadKind
{
    /// <summary>No payload (size 0).</summary>
    None = 0,

    /// <summary>"A single 64-bit integer" (8 bytes).</summary>
    U64,

    /// <summary>A u64 holding a vring index (bits 0-7) and the invalid-FD flag (bit 8): SET_VRING_KICK/CALL/ERR.</summary>
    VringFile,

    /// <summary>"A vring state description": <see cref="VhostVringState"/> (8 bytes).</summary>
    VringState,

    /// <summary>"A vring address description": <see cref="VhostVringAddr"/> (40 bytes).</summary>
    VringAddr,

    /// <summary>"Multiple Memory regions description": <see cref="VhostUserMemory"/> (8 + 32 * nregions bytes).</summary>
    Memory,

    /// <summary>"Single memory region description": <see cref="VhostUserSingleMemoryRegion"/> (40 bytes).</summary>
    SingleMemoryRegion,

    /// <summary>"Log description": <see cref="VhostUserLog"/> (16 bytes).</summary>
    Log,
}
