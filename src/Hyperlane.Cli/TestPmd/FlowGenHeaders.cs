using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Hyperlane.Packets;

namespace Hyperlane.Cli.TestPmd;

/// <summary>
/// flowgen's per-packet rewrite of a copy of the stream's template: the IPv4 destination becomes the flow's address,
/// the IPv4 checksum follows it and the UDP checksum is cleared (DPDK's flowgen leaves it 0). The checksum comes from
/// a sum taken once over the template's other header words, so a packet's bytes are only written, never read back:
/// reading them right after the template copy would wait for those stores, on a line the peer may still hold.
/// </summary>
public static class FlowGenHeaders
{
    /// <summary>Ethernet, a 20-byte IPv4 header and UDP: the shortest frame the rewrite applies to.</summary>
    public const int MinFrameLength = EthernetHeader.Length + Ipv4Header.MinLength + UdpHeader.Length;

    private const int IpAt = EthernetHeader.Length;
    private const int ChecksumAt = IpAt + 10;
    private const int DestinationAt = IpAt + 16;
    private const int UdpChecksumAt = IpAt + Ipv4Header.MinLength + 6;

    /// <summary>
    /// The one's-complement sum (folded) of the template's IPv4 header words other than the checksum and the
    /// destination, or -1 when the template is not Ethernet + a 20-byte IPv4 header + UDP (then the caller rewrites
    /// each packet the general way).
    /// </summary>
    public static long BaseSum(ReadOnlySpan<byte> template)
    {
        if (template.Length < MinFrameLength
            || BinaryPrimitives.ReadUInt16BigEndian(template[12..]) != 0x0800
            || template[IpAt] != 0x45
            || template[IpAt + 9] != 17)
        {
            return -1;
        }

        return Checksum.Ones(template[IpAt..ChecksumAt], Checksum.Ones(template[(ChecksumAt + 2)..DestinationAt]));
    }

    /// <summary>
    /// Writes <paramref name="destination"/>, the IPv4 checksum that goes with it and a zero UDP checksum into
    /// <paramref name="frame"/>, a copy of the template <paramref name="baseSum"/> was taken from. False, with nothing
    /// written, when the frame is shorter than <see cref="MinFrameLength"/> or the template did not qualify.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryStamp(Span<byte> frame, uint destination, long baseSum)
    {
        if (baseSum < 0 || frame.Length < MinFrameLength)
        {
            return false;
        }

        // A folded sum plus two words: no overflow of 32 bits, two folds reach 16.
        uint sum = (uint)baseSum + (destination >> 16) + (destination & 0xFFFF);
        sum = (sum & 0xFFFF) + (sum >> 16);
        sum += sum >> 16;
        BinaryPrimitives.WriteUInt16BigEndian(frame[ChecksumAt..], (ushort)~sum);
        BinaryPrimitives.WriteUInt32BigEndian(frame[DestinationAt..], destination);
        BinaryPrimitives.WriteUInt16BigEndian(frame[UdpChecksumAt..], 0);
        return true;
    }
}
