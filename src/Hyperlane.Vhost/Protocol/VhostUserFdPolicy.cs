namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// How many file descriptors a request must carry in its ancillary data (vhost-user.rst "Communication" and each
/// message's text). Any other count is an error, and the receiver closes every fd it got (CVE-2019-14818,
/// CVE-2022-0669).
/// </summary>
public enum VhostUserFdPolicy
{
    /// <summary>No fd.</summary>
    None = 0,

    /// <summary>Exactly one fd.</summary>
    One,

    /// <summary>One fd, or none when the invalid-FD flag (bit 8) of the u64 payload is set.</summary>
    OneUnlessNoFd,

    /// <summary>Exactly one fd per memory region (nregions).</summary>
    OnePerRegion,

    /// <summary>None, but one is tolerated and must be closed unused (REM_MEM_REG: "the back-end MAY accept messages with one file descriptor").</summary>
    NoneOrOne,
}
