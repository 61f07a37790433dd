namespace Hyperlane.Vhost.Tests;

/// <summary>
/// The vhost-user session tests share one collection that runs alone: they count the process's open fds
/// (/proc/self/fd) and mappings (/proc/self/maps), which tests running in parallel would disturb.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SessionCollection
{
    public const string Name = "vhost-user session";
}
