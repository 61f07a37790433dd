using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Hyperlane.Linux;

namespace Hyperlane.Testing;

/// <summary>
/// The kernel side of a test: an AF_PACKET socket bound to one interface inside a <see cref="NetNamespace"/>,
/// to send frames into the kernel and to see what a port really put on the wire. Outgoing frames
/// (our own sends) are not received back.
/// </summary>
public sealed unsafe class KernelPort : IDisposable
{
    private const int SolPacket = 263;
    private const int PacketIgnoreOutgoing = 23;
    private const byte PacketOutgoing = 4;
    private const ushort EthPAll = 0x0003;
    private readonly SafeFd fd;
    private readonly byte[] buffer = new byte[65536 + 64];

    private KernelPort(SafeFd fd, string ifname, int ifindex)
    {
        this.fd = fd;
        InterfaceName = ifname;
        InterfaceIndex = ifindex;
    }

    public string InterfaceName { get; }

    public int InterfaceIndex { get; }

    /// <summary>Opens the socket inside <paramref name="ns"/> on <paramref name="ifname"/>.</summary>
    public static KernelPort Open(NetNamespace ns, string ifname)
    {
        ArgumentNullException.ThrowIfNull(ns);
        return ns.Run(() =>
        {
            int index = (int)Syscalls.InterfaceIndex(ifname).ThrowIfFailed($"if_nametoindex({ifname})");
            Syscalls.Socket(Syscalls.AF_PACKET, Syscalls.SOCK_RAW | Syscalls.SOCK_NONBLOCK, BinaryPrimitives.ReverseEndianness(EthPAll), out SafeFd? s)
                .ThrowIfFailed("socket(AF_PACKET)");
            try
            {
                Syscalls.SetSockOpt(s!.Fd, SolPacket, PacketIgnoreOutgoing, 1); // best effort; recv also filters by pkttype
                Syscalls.SetSockOpt(s.Fd, Syscalls.SOL_SOCKET, Syscalls.SO_RCVBUFFORCE, 8 << 20);
                SockAddrLl addr = default;
                addr.Family = Syscalls.AF_PACKET;
                addr.Protocol = BinaryPrimitives.ReverseEndianness(EthPAll);
                addr.IfIndex = index;
                Syscalls.Bind(s.Fd, &addr, sizeof(SockAddrLl)).ThrowIfFailed($"bind AF_PACKET to {ifname}");
                return new KernelPort(s, ifname, index);
            }
            catch
            {
                s!.Dispose();
                throw;
            }
        });
    }

    /// <summary>Sends one frame out of the interface.</summary>
    public void Send(ReadOnlySpan<byte> frame) =>
        Syscalls.Send(fd.Fd, frame, 0).ThrowIfFailed($"send on {InterfaceName}");

    /// <summary>Sends <paramref name="count"/> copies; returns how many the kernel took (it may drop under load).</summary>
    public int SendMany(ReadOnlySpan<byte> frame, int count)
    {
        int sent = 0;
        for (int i = 0; i < count; i++)
        {
            if (Syscalls.Send(fd.Fd, frame, 0).IsSuccess)
            {
                sent++;
            }
        }

        return sent;
    }

    /// <summary>The next frame that arrived on the interface within <paramref name="timeout"/>, or null.</summary>
    public byte[]? Receive(TimeSpan timeout) => ReceiveTimed(timeout)?.Frame;

    /// <summary>The next frame with the <see cref="Stopwatch"/> timestamp at which it was read, or null.</summary>
    public (byte[] Frame, long Timestamp)? ReceiveTimed(TimeSpan timeout)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            SockAddrLl from = default;
            int len = sizeof(SockAddrLl);
            var r = Syscalls.RecvFrom(fd.Fd, buffer, Syscalls.MSG_TRUNC, &from, ref len);
            if (r.IsSuccess)
            {
                if (from.PacketType == PacketOutgoing)
                {
                    continue;
                }

                int n = (int)Math.Min(r.Value, buffer.Length);
                return (buffer.AsSpan(0, n).ToArray(), Stopwatch.GetTimestamp());
            }

            if (r.Error != Errno.EAGAIN && r.Error != Errno.EINTR)
            {
                throw new LinuxException($"recvfrom on {InterfaceName}", r.Error);
            }

            long now = Stopwatch.GetTimestamp();
            if (now >= deadline)
            {
                return null;
            }

            PollFd p = new() { Fd = fd.Fd, Events = Syscalls.POLLIN };
            int ms = (int)Math.Max(1, Math.Min(100, (deadline - now) * 1000 / Stopwatch.Frequency));
            Syscalls.Poll(&p, 1, ms);
        }
    }

    /// <summary>Counts frames (matching <paramref name="match"/>, if given) that arrive during <paramref name="window"/>.</summary>
    public int CountReceived(TimeSpan window, Func<byte[], bool>? match = null)
    {
        int count = 0;
        long end = Stopwatch.GetTimestamp() + (long)(window.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            long left = end - Stopwatch.GetTimestamp();
            if (left <= 0)
            {
                return count;
            }

            var f = Receive(TimeSpan.FromSeconds((double)left / Stopwatch.Frequency));
            if (f is not null && (match is null || match(f)))
            {
                count++;
            }
        }
    }

    /// <summary>Discards whatever is queued now.</summary>
    public int Drain()
    {
        int n = 0;
        while (Receive(TimeSpan.Zero) is not null)
        {
            n++;
        }

        return n;
    }

    public void Dispose() => fd.Dispose();

    /// <summary>struct sockaddr_ll (linux/if_packet.h), 20 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SockAddrLl
    {
        public ushort Family;
        public ushort Protocol;
        public int IfIndex;
        public ushort HaType;
        public byte PacketType;
        public byte HaLength;
        public ulong Address;
    }
}
