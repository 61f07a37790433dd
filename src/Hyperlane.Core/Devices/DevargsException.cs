namespace Hyperlane.Core.Devices;

/// <summary>
/// A devargs string is malformed, or an item does not fit the driver's <see cref="DevargsSchema"/>.
/// The message is one line: <c>&lt;device&gt;: &lt;detail&gt;</c>, where the device is
/// <see cref="DeviceName"/>, or <c>devargs</c> when the name could not be read.
/// </summary>
public sealed class DevargsException : FormatException
{
    /// <summary>Creates an exception for <paramref name="deviceName"/> with a one-line detail.</summary>
    /// <param name="deviceName">Device the string names (e.g. <c>net_null0</c>); empty when unknown.</param>
    /// <param name="key">Key at fault, or null when the fault is not about one key.</param>
    /// <param name="detail">What was wrong, e.g. <c>key 'size' = 'abc' is not an integer</c>.</param>
    public DevargsException(string deviceName, string? key, string detail)
        : this(deviceName, key, null, detail)
    {
    }

    /// <summary>Creates an exception that also records the character position of the fault.</summary>
    /// <param name="deviceName">Device the string names; empty when unknown.</param>
    /// <param name="key">Key at fault, or null.</param>
    /// <param name="position">0-based index into the devargs string, or null.</param>
    /// <param name="detail">What was wrong.</param>
    public DevargsException(string deviceName, string? key, int? position, string detail)
        : base(Compose(deviceName, detail))
    {
        DeviceName = deviceName ?? string.Empty;
        Key = key;
        Position = position;
        Detail = OneLine(detail ?? string.Empty);
    }

    /// <summary>Device name the string gives (e.g. <c>net_null0</c>), or empty when it could not be read.</summary>
    public string DeviceName { get; }

    /// <summary>Key at fault, or null when the fault is not about one key (syntax, device name).</summary>
    public string? Key { get; }

    /// <summary>0-based index into the devargs string where the fault is, when known.</summary>
    public int? Position { get; }

    /// <summary>The message without the device prefix.</summary>
    public string Detail { get; }

    private static string Compose(string? deviceName, string? detail)
    {
        string prefix = string.IsNullOrEmpty(deviceName) ? "devargs" : OneLine(deviceName);
        return prefix + ": " + OneLine(detail ?? string.Empty);
    }

    private static string OneLine(string text)
    {
        if (text.AsSpan().IndexOfAny('\r', '\n') < 0 && text.AsSpan().IndexOfAny('\u0085', '\u2028', '\u2029') < 0)
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                char c = source[i];
                span[i] = c is '\r' or '\n' or '\u0085' or '\u2028' or '\u2029' ? ' ' : c;
            }
        });
    }
}
