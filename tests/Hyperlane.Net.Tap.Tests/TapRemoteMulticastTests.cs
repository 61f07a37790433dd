using System.Buffers.Binary;
using System.Diagnostics;
using Hyperlane.Packets;
using Hyperlane.Testing;

namespace Hyperlane.Net.Tap.Tests;

/// <summary>
/// The multicast rules of remote mode carrying real traffic (veth a is the remote, its peer b the wire; see
/// TapRemoteTests): TAP_REMOTE_BROADCASTV6 mirrors 33:33:* to the application and lets the remote's stack have
/// it too; TAP_REMOTE_ALLMULTI adds every group-addressed frame while all-multicast is on.
/// </summary>
public sealed class TapRemoteMulticastTests
{
    private const string MacA = "02:00:00:bb:00:01";
    private const string MacB = "02:00:00:bb:00:02";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [SkippableFact]
    public void Ipv6_multicast_reaches_the_application_and_the_remotes_stack()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, b) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tm")},remote={a}");

        // IPv6 on a only (the lab turns it off by default), with a fixed link-local address and b's neighbour
        // entry, so a's stack answers an echo to ff02::1 straight away (no DAD, no neighbour discovery).
        IpCommand.Run("netns", "exec", lab.Ns.Name, "sysctl", "-q", "-w", $"net.ipv6.conf.{a}.disable_ipv6=0");
        lab.Ns.Ip("-6", "addr", "add", "fe80::1/64", "dev", a, "nodad");
        lab.Ns.Ip("-6", "neigh", "replace", "fe80::2", "lladdr", MacB, "dev", a, "nud", "permanent");
        using var kpB = KernelPort.Open(lab.Ns, b);

        const ushort id = 0x4c17;
        byte[] echo = Icmp6EchoToAllNodes(id, seq: 1);
        kpB.Drain();
        kpB.Send(echo);

        // The application gets the frame as sent (mirrored) ...
        int toApp = TapLab.CountReceived(port, Quiet, f => f.AsSpan().SequenceEqual(echo));
        Assert.Equal(1, toApp);

        // ... and a's kernel stack got it too: it answers with an echo reply to b.
        Assert.True(WaitForEchoReply(kpB, id, Wait), "the remote's stack did not answer the echo sent to ff02::1");
    }

    [SkippableFact]
    public void Ipv4_multicast_reaches_the_application_only_with_all_multicast()
    {
        Requires.NetNamespaces();
        Requires.Tun();
        using var lab = new TapLab();
        var (a, b) = lab.Ns.AddVethPair(macA: MacA, macB: MacB);
        var port = lab.Start($"net_tap0,iface={NetNamespace.UniqueIfName("tm")},remote={a}");
        using var kpB = KernelPort.Open(lab.Ns, b);

        // mDNS-style UDP to 224.0.0.251, dst MAC 01:00:5e:00:00:fb.
        var frame = new byte[80];
        PacketBuilder.Udp4(frame, MacAddress.Parse(MacB), MacAddress.Parse("01:00:5e:00:00:fb"),
            PacketBuilder.Ip(10, 9, 0, 2), PacketBuilder.Ip(224, 0, 0, 251), 5353, 5353, frame.Length);
        bool Ours(byte[] f) => f.AsSpan().SequenceEqual(frame);

        kpB.Send(frame);
        Assert.Equal(0, TapLab.CountReceived(port, Quiet, Ours));

        port.EnableAllMulticast();
        kpB.Send(frame);
        Assert.Equal(1, TapLab.CountReceived(port, Quiet * 2, Ours));

        port.DisableAllMulticast();
        kpB.Send(frame);
        Assert.Equal(0, TapLab.CountReceived(port, Quiet, Ours));
    }

    /// <summary>ICMPv6 echo request fe80::2 (MacB) → ff02::1 (33:33:00:00:00:01), checksum filled in.</summary>
    private static byte[] Icmp6EchoToAllNodes(ushort id, ushort seq)
    {
        const int payload = 16, icmpLength = 8 + payload;
        var f = new byte[14 + 40 + icmpLength];
        var s = f.AsSpan();
        MacAddress.Parse("33:33:00:00:00:01").CopyTo(s);
        MacAddress.Parse(MacB).CopyTo(s[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(s[12..], 0x86dd);
        var ip = s[14..];
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], icmpLength);
        ip[6] = 58; // next header: ICMPv6
        ip[7] = 255; // hop limit
        ip[8] = 0xfe;
        ip[9] = 0x80;
        ip[23] = 0x02; // src fe80::2
        ip[24] = 0xff;
        ip[25] = 0x02;
        ip[39] = 0x01; // dst ff02::1
        var icmp = ip[40..];
        icmp[0] = 128; // echo request
        BinaryPrimitives.WriteUInt16BigEndian(icmp[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], seq);
        for (int i = 0; i < payload; i++)
        {
            icmp[8 + i] = (byte)i;
        }

        // RFC 8200 §8.1 pseudo-header: src, dst, upper-layer length, 3 zero bytes, next header.
        uint sum = 0;
        for (int i = 8; i < 40; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(ip[i..]);
        }

        sum += icmpLength;
        sum += 58;
        for (int i = 0; i < icmpLength; i += 2)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(icmp[i..]);
        }

        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }

        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], (ushort)~sum);
        return f;
    }

    private static bool WaitForEchoReply(KernelPort kp, ushort id, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            byte[]? f = kp.Receive(timeout - sw.Elapsed);
            if (f is { Length: >= 14 + 40 + 8 }
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(12)) == 0x86dd
                && f[14 + 6] == 58
                && f[54] == 129
                && BinaryPrimitives.ReadUInt16BigEndian(f.AsSpan(58)) == id)
            {
                return true;
            }
        }

        return false;
    }
}
