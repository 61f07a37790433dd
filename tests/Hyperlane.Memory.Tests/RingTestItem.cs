using System.Runtime.InteropServices;

namespace Hyperlane.Memory.Tests;

/// <summary>A 16-byte item for <see cref="Ring{T}"/> tests: a value plus its complement, so a torn or misplaced copy shows.</summary>
[StructLayout(LayoutKind.Sequential)]
internal readonly record struct RingTestItem(ulong Value, ulong Check)
{
    public static RingTestItem From(ulong value) => new(value, ~value);
}
