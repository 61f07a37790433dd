namespace Hyperlane.Linux.Netlink;

/// <summary>
/// A u32 classifier selector: keys of (value, mask, offset) on 32-bit words. Values and masks are host
/// integers read big-endian from the packet (so 0x01020304 matches bytes 01 02 03 04); offsets are byte
/// offsets relative to the network header as tc u32 uses them (the Ethernet header is at -14 on ingress).
/// The kernel reads each key's 4 bytes at its offset as is (u32_classify uses skb_header_pointer), so
/// offsets need not be multiples of 4 (iproute2 aligns them only by habit).
/// </summary>
public sealed class U32Match
{
    private readonly (uint Value, uint Mask, int Offset)[] _keys;

    public U32Match(IEnumerable<(uint Value, uint Mask, int Offset)> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys.ToArray();
        if (_keys.Length is 0 or > 128)
        {
            throw new ArgumentException("a u32 selector holds 1 to 128 keys", nameof(keys));
        }
    }

    /// <summary>Matches every packet (one key with mask 0).</summary>
    public static U32Match All { get; } = new([(0u, 0u, 0)]);

    /// <summary>The keys in order.</summary>
    public IReadOnlyList<(uint Value, uint Mask, int Offset)> Keys => _keys;

    /// <summary>
    /// Matches the Ethernet destination MAC under <paramref name="mask"/> (6 bytes each): a u32 key at -14
    /// (bytes 0..3) and the remaining two bytes as a masked u32 at -10.
    /// </summary>
    public static U32Match DestinationMac(ReadOnlySpan<byte> mac, ReadOnlySpan<byte> mask)
    {
        if (mac.Length != 6)
        {
            throw new ArgumentException("a MAC address is 6 bytes", nameof(mac));
        }

        if (mask.Length != 6)
        {
            throw new ArgumentException("a MAC mask is 6 bytes", nameof(mask));
        }

        uint hiMask = (uint)(mask[0] << 24 | mask[1] << 16 | mask[2] << 8 | mask[3]);
        uint hiValue = (uint)(mac[0] << 24 | mac[1] << 16 | mac[2] << 8 | mac[3]) & hiMask;
        uint loMask = (uint)(mask[4] << 24 | mask[5] << 16);
        uint loValue = (uint)(mac[4] << 24 | mac[5] << 16) & loMask;
        return new U32Match([(hiValue, hiMask, -14), (loValue, loMask, -10)]);
    }

    /// <summary>Matches the Ethernet destination MAC exactly.</summary>
    public static U32Match DestinationMac(ReadOnlySpan<byte> mac) =>
        DestinationMac(mac, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

    public override string ToString() =>
        string.Join(" ", _keys.Select(k => $"match u32 0x{k.Value:x8} 0x{k.Mask:x8} at {k.Offset}"));
}
