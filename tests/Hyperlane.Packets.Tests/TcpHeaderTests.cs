using Hyperlane.Packets;

namespace Hyperlane.Packets.Tests;

public class TcpHeaderTests
{
    private static byte[] Syn() =>
    [
        0x30, 0x39, 0x00, 0x50, // 12345 -> 80
        0x12, 0x34, 0x56, 0x78, // seq
        0x9A, 0xBC, 0xDE, 0xF0, // ack
        0x60, 0x12, // data offset 6, SYN|ACK
        0xFA, 0xF0, // window 64240
        0x1A, 0x2B, // checksum
        0x00, 0x07, // urgent
        0x02, 0x04, 0x05, 0xB4, // MSS 1460
    ];

    [Fact]
    public void Reads_fields_in_network_order()
    {
        Assert.True(TcpHeader.TryCreate(Syn(), out TcpHeader tcp));
        Assert.Equal(12345, tcp.SourcePort);
        Assert.Equal(80, tcp.DestinationPort);
        Assert.Equal(0x12345678U, tcp.SequenceNumber);
        Assert.Equal(0x9ABCDEF0U, tcp.AcknowledgmentNumber);
        Assert.Equal(6, tcp.DataOffset);
        Assert.Equal(24, tcp.HeaderLength);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, tcp.Flags);
        Assert.Equal(64240, tcp.Window);
        Assert.Equal(0x1A2B, tcp.Checksum);
        Assert.Equal(7, tcp.UrgentPointer);
        Assert.Equal(new byte[] { 0x02, 0x04, 0x05, 0xB4 }, tcp.Options.ToArray());
        Assert.True(tcp.Payload.IsEmpty);
    }

    [Fact]
    public void Writes_fields_in_network_order()
    {
        var bytes = new byte[24];
        var tcp = new TcpHeader(bytes);
        tcp.SourcePort = 12345;
        tcp.DestinationPort = 80;
        tcp.SequenceNumber = 0x12345678;
        tcp.AcknowledgmentNumber = 0x9ABCDEF0;
        tcp.DataOffset = 6;
        tcp.Flags = TcpFlags.Syn | TcpFlags.Ack;
        tcp.Window = 64240;
        tcp.Checksum = 0x1A2B;
        tcp.UrgentPointer = 7;
        tcp.Options[0] = 0x02;
        tcp.Options[1] = 0x04;
        tcp.Options[2] = 0x05;
        tcp.Options[3] = 0xB4;
        Assert.Equal(Syn(), bytes);
    }

    [Fact]
    public void TryCreate_checks_data_offset()
    {
        byte[] bytes = Syn();
        Assert.True(TcpHeader.TryCreate(bytes.AsSpan(0, 24), out _));
        Assert.False(TcpHeader.TryCreate(bytes.AsSpan(0, 23), out _)); // offset 6 needs 24
        bytes[12] = 0x40;
        Assert.False(TcpHeader.TryCreate(bytes, out _)); // offset 4
        Assert.False(TcpHeader.TryCreate(new byte[19], out _));
        Assert.Throws<ArgumentException>("bytes", () => new TcpHeader(new byte[19]));
    }
}
