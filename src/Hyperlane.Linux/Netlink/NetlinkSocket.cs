namespace Hyperlane.Linux.Netlink;

/// <summary>
/// A non-blocking NETLINK_ROUTE socket in the calling thread's network namespace, with extended ACKs
/// (NETLINK_EXT_ACK) and capped error echoes (NETLINK_CAP_ACK) turned on.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    private readonly SafeFd _fd;

    public NetlinkSocket(uint groups = 0, int receiveBuffer = 0)
    {
        SysResult r = Syscalls.Socket(Syscalls.AF_NETLINK, Syscalls.SOCK_RAW | Syscalls.SOCK_NONBLOCK, Nl.NETLINK_ROUTE, out SafeFd? fd);
        if (!r.IsSuccess || fd is null)
        {
            throw new LinuxException("socket(AF_NETLINK, NETLINK_ROUTE)", r.Error);
        }

        _fd = fd;
        try
        {
            // Both are best effort: older kernels lack them and then simply send less.
            _ = Syscalls.SetSockOpt(_fd.Fd, Nl.SOL_NETLINK, Nl.NETLINK_EXT_ACK, 1);
            _ = Syscalls.SetSockOpt(_fd.Fd, Nl.SOL_NETLINK, Nl.NETLINK_CAP_ACK, 1);
            if (receiveBuffer > 0)
            {
                _ = Syscalls.SetSockOpt(_fd.Fd, Syscalls.SOL_SOCKET, Syscalls.SO_RCVBUF, receiveBuffer);
            }

            // struct sockaddr_nl: u16 nl_family, u16 nl_pad, u32 nl_pid (0: kernel assigns), u32 nl_groups
            byte* address = stackalloc byte[Nl.SockaddrNlSize];
            new Span<byte>(address, Nl.SockaddrNlSize).Clear();
            NetlinkMessageBuilder.WriteNativeU16(new Span<byte>(address, 2), Syscalls.AF_NETLINK);
            NetlinkMessageBuilder.WriteNativeU32(new Span<byte>(address + 8, 4), groups);
            Syscalls.Bind(_fd.Fd, address, Nl.SockaddrNlSize).ThrowIfFailed("bind(AF_NETLINK)");

            int length = Nl.SockaddrNlSize;
            Syscalls.GetSockName(_fd.Fd, address, ref length).ThrowIfFailed("getsockname(AF_NETLINK)");
            PortId = NetlinkParser.ReadU32(new ReadOnlySpan<byte>(address + 4, 4));
        }
        catch
        {
            _fd.Dispose();
            throw;
        }
    }

    /// <summary>The port id the kernel assigned (replies carry it in nlmsg_pid).</summary>
    public uint PortId { get; }

    public int Fd => _fd.Fd;

    /// <summary>Sends one request to the kernel (port 0).</summary>
    public void Send(ReadOnlySpan<byte> message, string request)
    {
        byte* kernel = stackalloc byte[Nl.SockaddrNlSize];
        new Span<byte>(kernel, Nl.SockaddrNlSize).Clear();
        NetlinkMessageBuilder.WriteNativeU16(new Span<byte>(kernel, 2), Syscalls.AF_NETLINK);
        while (true)
        {
            SysResult r = Syscalls.SendTo(_fd.Fd, message, 0, kernel, Nl.SockaddrNlSize);
            if (r.IsSuccess)
            {
                if (r.Value != message.Length)
                {
                    throw new LinuxException($"sendto ({request}) sent {r.Value} of {message.Length} bytes");
                }

                return;
            }

            if (r.Error != Errno.EINTR)
            {
                throw new LinuxException($"sendto ({request})", r.Error);
            }
        }
    }

    /// <summary>Waits until a datagram can be read; false when <paramref name="timeoutMs"/> passed first.</summary>
    public bool WaitReadable(int timeoutMs)
    {
        PollFd poll = new() { Fd = _fd.Fd, Events = Syscalls.POLLIN };
        SysResult r = Syscalls.Poll(&poll, 1, timeoutMs);
        if (!r.IsSuccess)
        {
            return r.Error == Errno.EINTR ? false : throw new LinuxException("poll(netlink)", r.Error);
        }

        return r.Value > 0;
    }

    /// <summary>
    /// Reads one whole datagram without blocking, growing <paramref name="buffer"/> when the datagram is
    /// larger (peeked with MSG_TRUNC first). Fails with EAGAIN when none is queued.
    /// </summary>
    public SysResult Receive(ref byte[] buffer)
    {
        SysResult peek = Syscalls.Recv(_fd.Fd, buffer, Nl.MSG_PEEK | Syscalls.MSG_TRUNC | Syscalls.MSG_DONTWAIT);
        if (!peek.IsSuccess)
        {
            return peek;
        }

        if (peek.Value > buffer.Length)
        {
            buffer = new byte[Math.Min(peek.Value, 16 << 20)];
        }

        SysResult r = Syscalls.Recv(_fd.Fd, buffer, Syscalls.MSG_TRUNC | Syscalls.MSG_DONTWAIT);
        // A datagram still larger than the buffer (only past 16 MiB) is reported as its truncated prefix.
        return r.IsSuccess && r.Value > buffer.Length ? SysResult.Ok(buffer.Length) : r;
    }

    public void Dispose() => _fd.Dispose();
}
