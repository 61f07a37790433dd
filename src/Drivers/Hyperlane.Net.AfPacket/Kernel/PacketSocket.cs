using System.Buffers.Binary;
using Hyperlane.Linux;

namespace Hyperlane.Net.AfPacket.Kernel;

/// <summary>
/// One AF_PACKET socket bound to an interface, with a TPACKET_V3 Rx ring and a V3 Tx ring mapped in one
/// region (Rx ring first, as the kernel lays them out). Built and torn down on the control path; the rings
/// are read by the queues. Disposing unmaps the rings and closes the socket.
/// </summary>
internal sealed unsafe class PacketSocket : IDisposable
{
    /// <summary>TP_FT_REQ_FILL_RXHASH: the kernel fills tp_rxhash with the skb's flow hash.</summary>
    private const uint TP_FT_REQ_FILL_RXHASH = 1;

    private readonly SafeFd fd;
    private nint mapping;
    private nuint mappingLength;
    private long dropsTotal;

    private PacketSocket(SafeFd fd) => this.fd = fd;

    public int Fd => fd.Fd;

    public RxRing Rx { get; private set; } = null!;

    public TxRing Tx { get; private set; } = null!;

    /// <summary>Kernel drops (tp_drops) seen so far: the Rx ring was full.</summary>
    public long Drops => Interlocked.Read(ref dropsTotal);

    /// <summary>Opens a socket on <paramref name="ifIndex"/> with both rings; throws <see cref="LinuxException"/> naming the step that failed.</summary>
    public static PacketSocket Open(int ifIndex, AfPacketOptions o)
    {
        // Protocol 0: the socket sees no traffic until bind() names the interface and ETH_P_ALL.
        Syscalls.Socket(Syscalls.AF_PACKET, Syscalls.SOCK_RAW, 0, out SafeFd? raw).ThrowIfFailed("socket(AF_PACKET, SOCK_RAW)");
        var s = new PacketSocket(raw!);
        try
        {
            s.Setup(ifIndex, o);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Joins the socket to fanout group <paramref name="groupId"/>, or to a new group with a kernel-chosen id when null; returns the id.</summary>
    public int JoinFanout(int? groupId, int mode)
    {
        int flags = mode == PacketConstants.PACKET_FANOUT_HASH ? PacketConstants.PACKET_FANOUT_FLAG_DEFRAG : 0;
        int arg = groupId is int id
            ? (id & 0xffff) | ((mode | flags) << 16)
            : (mode | flags | PacketConstants.PACKET_FANOUT_FLAG_UNIQUEID) << 16;
        Syscalls.SetSockOpt(Fd, PacketConstants.SOL_PACKET, PacketConstants.PACKET_FANOUT, arg).ThrowIfFailed("setsockopt(PACKET_FANOUT)");
        if (groupId is int given)
        {
            return given;
        }

        int value = 0, len = sizeof(int);
        Syscalls.GetSockOpt(Fd, PacketConstants.SOL_PACKET, PacketConstants.PACKET_FANOUT, &value, ref len).ThrowIfFailed("getsockopt(PACKET_FANOUT)");
        return value & 0xffff;
    }

    /// <summary>Adds or drops a PACKET_MR_PROMISC / PACKET_MR_ALLMULTI membership (released with the socket).</summary>
    public void SetMembership(int ifIndex, int type, bool add)
    {
        var mreq = new PacketMreq { IfIndex = ifIndex, Type = (ushort)type };
        int name = add ? PacketConstants.PACKET_ADD_MEMBERSHIP : PacketConstants.PACKET_DROP_MEMBERSHIP;
        var r = Syscalls.SetSockOpt(Fd, PacketConstants.SOL_PACKET, name, &mreq, sizeof(PacketMreq));
        if (!r.IsSuccess && !(r.Error == Errno.EINVAL && !add))
        {
            r.ThrowIfFailed(add ? "setsockopt(PACKET_ADD_MEMBERSHIP)" : "setsockopt(PACKET_DROP_MEMBERSHIP)");
        }
    }

    /// <summary>Reads PACKET_STATISTICS (which resets the kernel's counters) and adds its drops to <see cref="Drops"/>. Control path.</summary>
    public long PollDrops()
    {
        TpacketStatsV3 st = default;
        int len = sizeof(TpacketStatsV3);
        if (Syscalls.GetSockOpt(Fd, PacketConstants.SOL_PACKET, PacketConstants.PACKET_STATISTICS, &st, ref len).IsSuccess)
        {
            Interlocked.Add(ref dropsTotal, st.Drops);
        }

        return Drops;
    }

    /// <summary>
    /// Asks the kernel to send every frame marked TP_STATUS_SEND_REQUEST, without waiting (data path).
    /// EAGAIN/ENOBUFS leave the frames in the ring for the next kick.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public SysResult Kick() => Syscalls.SendTo(Fd, default, Syscalls.MSG_DONTWAIT, null, 0);

    public void Dispose()
    {
        if (mapping != 0)
        {
            Mman.Unmap(mapping, mappingLength);
            mapping = 0;
        }

        fd.Dispose();
    }

    private void Setup(int ifIndex, AfPacketOptions o)
    {
        SetInt(PacketConstants.PACKET_VERSION, PacketConstants.TPACKET_V3, "PACKET_VERSION(TPACKET_V3)");
        if (o.QdiscBypass)
        {
            SetInt(PacketConstants.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS");
        }

        // A malformed Tx frame is skipped instead of stopping the ring (we never submit one; defence only).
        SetInt(PacketConstants.PACKET_LOSS, 1, "PACKET_LOSS");

        // A port receives what arrives on the wire, not what the host itself sends out of the interface.
        SetInt(PacketConstants.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");

        // Room in the socket's send buffer for a full Tx ring in flight (root may exceed wmem_max).
        int sndbuf = (int)Math.Min(int.MaxValue / 2, o.RingBytes * 2);
        if (!Syscalls.SetSockOpt(Fd, Syscalls.SOL_SOCKET, Syscalls.SO_SNDBUFFORCE, sndbuf).IsSuccess)
        {
            Syscalls.SetSockOpt(Fd, Syscalls.SOL_SOCKET, Syscalls.SO_SNDBUF, sndbuf);
        }

        var rx = new TpacketReq3
        {
            BlockSize = (uint)o.BlockSize,
            BlockNr = (uint)o.BlockCount,
            FrameSize = (uint)o.FrameSize,
            FrameNr = (uint)o.RingFrameCount,
            RetireBlkTov = 1, // ms: a partly filled block reaches user space within about 1 ms
            FeatureReqWord = TP_FT_REQ_FILL_RXHASH,
        };
        Syscalls.SetSockOpt(Fd, PacketConstants.SOL_PACKET, PacketConstants.PACKET_RX_RING, &rx, sizeof(TpacketReq3)).ThrowIfFailed("setsockopt(PACKET_RX_RING)");

        var tx = rx with { RetireBlkTov = 0, FeatureReqWord = 0 }; // the kernel refuses block retirement on a Tx ring
        Syscalls.SetSockOpt(Fd, PacketConstants.SOL_PACKET, PacketConstants.PACKET_TX_RING, &tx, sizeof(TpacketReq3)).ThrowIfFailed("setsockopt(PACKET_TX_RING)");

        long ring = o.RingBytes;
        mappingLength = (nuint)(ring * 2);
        var map = Mman.Map(0, mappingLength, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
        mapping = (nint)map.ThrowIfFailed("mmap(packet rings)");
        Rx = new RxRing(mapping, o.BlockSize, o.BlockCount);
        Tx = new TxRing(mapping + (nint)ring, o.BlockSize, o.FrameSize, o.RingFrameCount);

        var addr = new SockaddrLl
        {
            Family = Syscalls.AF_PACKET,
            Protocol = BinaryPrimitives.ReverseEndianness(PacketConstants.ETH_P_ALL),
            IfIndex = ifIndex,
        };
        Syscalls.Bind(Fd, &addr, sizeof(SockaddrLl)).ThrowIfFailed("bind(AF_PACKET)");
    }

    private void SetInt(int name, int value, string what) =>
        Syscalls.SetSockOpt(Fd, PacketConstants.SOL_PACKET, name, value).ThrowIfFailed("setsockopt(" + what + ")");
}
