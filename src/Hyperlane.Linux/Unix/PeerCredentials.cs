namespace Hyperlane.Linux.Unix;

/// <summary>
/// The process at the other end of a connected Unix socket, as the kernel recorded it at connect (or
/// socketpair) time: struct ucred from SO_PEERCRED (unix(7)).
/// </summary>
/// <param name="ProcessId">pid of the peer (in our pid namespace; 0 when it is not visible there).</param>
/// <param name="UserId">Effective uid of the peer.</param>
/// <param name="GroupId">Effective gid of the peer.</param>
public readonly record struct PeerCredentials(int ProcessId, uint UserId, uint GroupId);
