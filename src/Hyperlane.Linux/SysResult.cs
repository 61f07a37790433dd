using System.Runtime.CompilerServices;

namespace Hyperlane.Linux;

/// <summary>
/// Result of a system call: a non-negative value, or the errno it failed with.
/// Lets callers on hot paths test for failure without exceptions.
/// </summary>
public readonly struct SysResult
{
    private SysResult(long value, Errno error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The call's return value when it succeeded.</summary>
    public long Value { get; }

    /// <summary>The errno when it failed; <see cref="Errno.None"/> on success.</summary>
    public Errno Error { get; }

    public bool IsSuccess => Error == Errno.None;

    public static SysResult Ok(long value) => new(value, Errno.None);

    public static SysResult Fail(Errno error) => new(-1, error);

    /// <summary>Builds a result from a libc return value, reading errno when it is -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static SysResult FromReturn(long ret) =>
        ret >= 0 ? new SysResult(ret, Errno.None) : new SysResult(-1, (Errno)System.Runtime.InteropServices.Marshal.GetLastPInvokeError());

    /// <summary>Throws a <see cref="LinuxException"/> naming <paramref name="operation"/> when the call failed.</summary>
    public long ThrowIfFailed(string operation) =>
        IsSuccess ? Value : throw new LinuxException(operation, Error);

    public override string ToString() => IsSuccess ? Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Error.ToString();
}
