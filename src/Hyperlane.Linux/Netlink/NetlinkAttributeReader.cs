namespace Hyperlane.Linux.Netlink;

/// <summary>
/// Walks the attributes (struct nlattr: u16 len, u16 type, value, padding to 4) of a span. Every length is
/// checked against what remains: a bad one stops the walk and sets <see cref="Malformed"/>.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Malformed = false;
    }

    /// <summary>An attribute's length was below the header size or ran past the end.</summary>
    public bool Malformed { get; private set; }

    /// <summary>Reads the next attribute; false at the end or on a malformed one.</summary>
    public bool Next(out ushort type, out ReadOnlySpan<byte> value)
    {
        type = 0;
        value = default;
        if (_rest.IsEmpty)
        {
            return false;
        }

        if (_rest.Length < Nl.AttributeHeaderSize)
        {
            Malformed = true;
            _rest = default;
            return false;
        }

        int length = NetlinkParser.ReadU16(_rest);
        if (length < Nl.AttributeHeaderSize || length > _rest.Length)
        {
            Malformed = true;
            _rest = default;
            return false;
        }

        type = (ushort)(NetlinkParser.ReadU16(_rest[2..]) & Nl.NLA_TYPE_MASK);
        value = _rest[Nl.AttributeHeaderSize..length];
        int advance = Math.Min(Nl.Align(length), _rest.Length);
        _rest = _rest[advance..];
        return true;
    }
}
