using System.Diagnostics.CodeAnalysis;

namespace Hyperlane.Packets;

/// <summary>Cold throw paths, kept out of the data-path methods so those stay small and allocation-free.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void TooShort(string paramName, int length, int required, string what) =>
        throw new ArgumentException($"{what} needs at least {required} bytes but the span has {length}.", paramName);

    [DoesNotReturn]
    public static void Argument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    public static void OutOfRange(string paramName, long value, string message) =>
        throw new ArgumentOutOfRangeException(paramName, value, message);
}
