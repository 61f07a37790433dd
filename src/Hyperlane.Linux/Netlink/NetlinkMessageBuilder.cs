using System.Buffers.Binary;
using System.Text;

namespace Hyperlane.Linux.Netlink;

/// <summary>Builds one netlink request: nlmsghdr, a family header, then (nested) attributes, native endian.</summary>
internal sealed class NetlinkMessageBuilder
{
    private byte[] _buffer = new byte[512];
    private int _length;

    public NetlinkMessageBuilder(ushort type, ushort flags)
    {
        Type = type;
        _length = Nl.HeaderSize;
        WriteU16(4, type);
        WriteU16(6, flags);
    }

    public ushort Type { get; }

    /// <summary>Appends a zeroed, 4-byte aligned block of <paramref name="size"/> bytes and returns it.</summary>
    public Span<byte> Reserve(int size)
    {
        int aligned = Nl.Align(size);
        Ensure(aligned);
        Span<byte> block = _buffer.AsSpan(_length, aligned);
        block.Clear();
        _length += aligned;
        return block[..size];
    }

    public void Attribute(ushort type, ReadOnlySpan<byte> value)
    {
        if (value.Length > ushort.MaxValue - Nl.AttributeHeaderSize)
        {
            throw new ArgumentException("netlink attribute too long", nameof(value));
        }

        Span<byte> block = Reserve(Nl.AttributeHeaderSize + value.Length);
        WriteAttributeHeader(block, (ushort)(Nl.AttributeHeaderSize + value.Length), type);
        value.CopyTo(block[Nl.AttributeHeaderSize..]);
    }

    public void AttributeU32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        WriteNativeU32(bytes, value);
        Attribute(type, bytes);
    }

    /// <summary>A NUL-terminated string attribute.</summary>
    public void AttributeString(ushort type, string value)
    {
        int count = Encoding.UTF8.GetByteCount(value);
        Span<byte> bytes = count < 256 ? stackalloc byte[count + 1] : new byte[count + 1];
        Encoding.UTF8.GetBytes(value, bytes);
        bytes[count] = 0;
        Attribute(type, bytes);
    }

    /// <summary>Opens a nested attribute; close it with <see cref="EndNested"/>.</summary>
    public int BeginNested(ushort type)
    {
        int start = _length;
        Span<byte> block = Reserve(Nl.AttributeHeaderSize);
        WriteAttributeHeader(block, 0, type);
        return start;
    }

    public void EndNested(int start)
    {
        int length = _length - start;
        if (length > ushort.MaxValue)
        {
            throw new InvalidOperationException("nested netlink attribute too long");
        }

        WriteU16(start, (ushort)length);
    }

    /// <summary>Writes nlmsg_len and nlmsg_seq and returns the finished message.</summary>
    public ReadOnlySpan<byte> Finish(uint sequence)
    {
        WriteU32(0, (uint)_length);
        WriteU32(8, sequence);
        WriteU32(12, 0);
        return _buffer.AsSpan(0, _length);
    }

    public static void WriteNativeU32(Span<byte> destination, uint value)
    {
        if (BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, value);
        }
    }

    public static void WriteNativeI32(Span<byte> destination, int value) => WriteNativeU32(destination, (uint)value);

    public static void WriteNativeU16(Span<byte> destination, ushort value)
    {
        if (BitConverter.IsLittleEndian)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination, value);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination, value);
        }
    }

    private static void WriteAttributeHeader(Span<byte> block, ushort length, ushort type)
    {
        WriteNativeU16(block, length);
        WriteNativeU16(block[2..], type);
    }

    private void WriteU16(int offset, ushort value) => WriteNativeU16(_buffer.AsSpan(offset), value);

    private void WriteU32(int offset, uint value) => WriteNativeU32(_buffer.AsSpan(offset), value);

    private void Ensure(int more)
    {
        if (_length + more > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
        }
    }
}
