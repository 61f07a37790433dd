using System.Runtime.InteropServices;

namespace Hyperlane.Linux;

/// <summary>An owned Linux file descriptor, closed exactly once.</summary>
public sealed class SafeFd : SafeHandle
{
    public SafeFd()
        : base(-1, ownsHandle: true)
    {
    }

    public SafeFd(int fd, bool ownsHandle = true)
        : base(-1, ownsHandle)
    {
        SetHandle(fd);
    }

    public override bool IsInvalid => handle.ToInt64() < 0;

    /// <summary>The raw descriptor number. Valid only while this handle is open.</summary>
    public int Fd => (int)handle.ToInt64();

    protected override bool ReleaseHandle() => LibC.close((int)handle.ToInt64()) == 0;
}
