using System.Buffers.Binary;
using Hyperlane.Linux;
using Hyperlane.Testing;

namespace Hyperlane.Linux.Tests.Netlink;

/// <summary>
/// An AF_PACKET socket bound to one EtherType on one interface. Unlike an ETH_P_ALL tap (which the kernel
/// feeds before tc ingress), a protocol-specific packet socket is fed after tc ingress, so it sees only
/// what ingress let up the stack.
/// </summary>
internal sealed unsafe class ProtocolPort : IDisposable
{
    private readonly SafeFd _fd;

    private ProtocolPort(SafeFd fd) => _fd = fd;

    public static ProtocolPort Open(NetNamespace ns, string ifname, ushort etherType) => ns.Run(() =>
    {
        int index = (int)Syscalls.InterfaceIndex(ifname).ThrowIfFailed("if_nametoindex");
        ushort protocol = BinaryPrimitives.ReverseEndianness(etherType);
        Syscalls.Socket(Syscalls.AF_PACKET, Syscalls.SOCK_RAW | Syscalls.SOCK_NONBLOCK, protocol, out SafeFd? fd).ThrowIfFailed("socket(AF_PACKET)");
        // struct sockaddr_ll: u16 family, be16 protocol, i32 ifindex, u16 hatype, u8 pkttype, u8 halen, u8 addr[8]
        byte* address = stackalloc byte[20];
        new Span<byte>(address, 20).Clear();
        *(ushort*)address = Syscalls.AF_PACKET;
        *(ushort*)(address + 2) = protocol;
        *(int*)(address + 4) = index;
        SysResult bound = Syscalls.Bind(fd!.Fd, address, 20);
        if (!bound.IsSuccess)
        {
            fd.Dispose();
            bound.ThrowIfFailed("bind(AF_PACKET)");
        }

        return new ProtocolPort(fd);
    });

    /// <summary>Counts frames that arrive within <paramref name="window"/> and satisfy <paramref name="match"/>.</summary>
    public int Count(TimeSpan window, Func<byte[], bool> match)
    {
        int count = 0;
        var buffer = new byte[2048];
        long end = Environment.TickCount64 + (long)window.TotalMilliseconds;
        while (true)
        {
            long left = end - Environment.TickCount64;
            if (left <= 0)
            {
                return count;
            }

            PollFd poll = new() { Fd = _fd.Fd, Events = Syscalls.POLLIN };
            Syscalls.Poll(&poll, 1, (int)left);
            SysResult r = Syscalls.Recv(_fd.Fd, buffer, Syscalls.MSG_DONTWAIT);
            if (r.IsSuccess && match(buffer.AsSpan(0, (int)r.Value).ToArray()))
            {
                count++;
            }
        }
    }

    public void Dispose() => _fd.Dispose();
}
