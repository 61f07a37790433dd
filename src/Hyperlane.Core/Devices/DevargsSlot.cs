namespace Hyperlane.Core.Devices;

/// <summary>The validated occurrences of one schema key in one devargs string.</summary>
internal sealed class DevargsSlot
{
    public DevargsSlot(DevargsKey key) => Key = key;

    public DevargsKey Key { get; }

    /// <summary>Where each occurrence's key starts in the source.</summary>
    public List<int> Positions { get; } = [];

    /// <summary>Each value: as given (String, Enum, Parenthesized), canonical (Mac), decimal (Int), "1"/"0" (Bool).</summary>
    public List<string> Texts { get; } = [];

    /// <summary>Int values.</summary>
    public List<long> Ints { get; } = [];

    /// <summary>Mac octets per occurrence; null where a word was given.</summary>
    public List<byte[]?> Macs { get; } = [];

    /// <summary>Last Bool value.</summary>
    public bool Bool { get; set; }

    public int Count => Positions.Count;
}
