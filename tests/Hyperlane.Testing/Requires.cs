using Hyperlane.Linux;

namespace Hyperlane.Testing;

/// <summary>
/// Prerequisites of tests that need the real kernel. Missing one skips the test with the reason
/// ([SkippableFact]), except when CI=true: there a missing prerequisite fails, so CI never passes on skips.
/// </summary>
public static class Requires
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Root (CAP_NET_ADMIN, CAP_NET_RAW, namespaces).</summary>
    public static void Root() => Check(ProcessInfo.IsRoot, "needs root (CAP_NET_ADMIN, CAP_NET_RAW and network namespaces)");

    public static void Tun() => Check(File.Exists("/dev/net/tun"), "needs /dev/net/tun");

    /// <summary>Root plus the ip command (iproute2) the lab uses to create namespaces and veths.</summary>
    public static void NetNamespaces()
    {
        Root();
        Check(IpCommand.IsAvailable, "needs the ip command (apt-get install iproute2)");
    }

    /// <summary>Skips (or fails under CI) when <paramref name="ok"/> is false.</summary>
    public static void Check(bool ok, string reason)
    {
        if (ok)
        {
            return;
        }

        if (IsCi)
        {
            throw new InvalidOperationException($"prerequisite missing and CI=true: {reason}");
        }

        Skip.If(true, reason);
    }
}
