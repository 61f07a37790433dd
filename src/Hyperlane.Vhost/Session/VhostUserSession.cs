using System.Globalization;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Packets;
using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Vhost.Session;

/// <summary>
/// The state of one vhost-user device as the frontend sets it up, and the handling of each request (vhost-user.rst
/// "Front-end message types"). Runs on the backend's session thread only; the data path meets it only through the
/// <see cref="VhostQueueSlot"/>s.
/// </summary>
/// <remarks>
/// <para>
/// Messages arrive already validated in shape by <see cref="VhostUserMessageDecoder"/>; what is checked here is
/// whether they fit this device (see <see cref="Handle"/>). A refusal throws <see cref="VhostUserProtocolException"/>,
/// and the backend drops the connection.
/// </para>
/// <para>
/// A vring is usable, and gets a queue in its slot, once the features are set, the memory table exists, and it has a
/// size, addresses, a base, a kick (an fd or the invalid-FD flag) and is enabled (SET_VRING_ENABLE 1, or at once when
/// VHOST_USER_F_PROTOCOL_FEATURES is not negotiated: "the ring starts directly in the enabled state"). The queue is
/// split or packed as VIRTIO_F_RING_PACKED says. Whatever a queue was built from (memory table, dirty log, call fd,
/// size, addresses, base, features) changes only after the queue is retired from its slot; what it used is freed
/// only once the data path has left it (else kept, and logged).
/// </para>
/// </remarks>
internal sealed class VhostUserSession : IDisposable
{
    private const ulong ProtocolFeaturesBit = 1UL << VirtioFeatures.VhostUserProtocolFeatures;
    private const ulong LogAllBit = 1UL << VirtioFeatures.VhostLogAll;
    private const ulong PackedBit = 1UL << VirtioFeatures.RingPacked;
    private const ulong DirtyLogPage = DirtyLog.PageSize;

    private readonly VhostUserBackendOptions _options;
    private readonly ILogger _logger;
    private readonly VhostUserBackendCounters _counters;
    private readonly string _path;
    private readonly VhostVring[] _vrings;
    private readonly List<IDisposable> _quarantine = [];
    private VhostMemoryTable? _memory;
    private VhostLogMapping? _log;

    public VhostUserSession(VhostUserBackendOptions options, IReadOnlyList<VhostQueueSlot> slots, ILogger logger, VhostUserBackendCounters counters)
    {
        _options = options;
        _logger = logger;
        _counters = counters;
        _path = options.SocketPath;
        OfferedFeatures = options.OfferedFeatures;
        OfferedProtocolFeatures = options.ProtocolFeatures;
        _vrings = new VhostVring[slots.Count];
        for (int i = 0; i < _vrings.Length; i++)
        {
            _vrings[i] = new VhostVring(slots[i]);
        }
    }

    public ulong OfferedFeatures { get; }

    public VhostUserProtocolFeatures OfferedProtocolFeatures { get; }

    /// <summary>SET_FEATURES, once received (0 before).</summary>
    public ulong Features { get; private set; }

    /// <summary>Whether SET_FEATURES was received.</summary>
    public bool FeaturesSet { get; private set; }

    /// <summary>SET_PROTOCOL_FEATURES (None before).</summary>
    public VhostUserProtocolFeatures ProtocolFeatures { get; private set; }

    /// <summary>SET_STATUS (0 before).</summary>
    public byte Status { get; private set; }

    /// <summary>NET_SET_MTU, once received.</summary>
    public int? Mtu { get; private set; }

    /// <summary>SEND_RARP received by the last <see cref="Handle"/> (the backend raises the event and clears it).</summary>
    public MacAddress? PendingRarp { get; set; }

    /// <summary>NET_SET_MTU received by the last <see cref="Handle"/> (the backend raises the event and clears it).</summary>
    public int? PendingMtu { get; set; }

    /// <summary>
    /// DPDK's virtio_is_ready for net: the first queue pair's rings are usable and, when VHOST_USER_PROTOCOL_F_STATUS is
    /// negotiated, the driver has set DRIVER_OK.
    /// </summary>
    public bool IsReady =>
        _vrings.Length >= 2
        && _vrings[0].Slot.IsActive
        && _vrings[1].Slot.IsActive
        && ((ProtocolFeatures & VhostUserProtocolFeatures.Status) == 0 || (Status & (byte)VirtioDeviceStatus.DriverOk) != 0);

    /// <summary>Whether any vring has a queue.</summary>
    public bool AnyQueueLive
    {
        get
        {
            foreach (VhostVring ring in _vrings)
            {
                if (ring.Slot.IsActive)
                {
                    return true;
                }
            }

            return false;
        }
    }

    private bool Packed => (Features & PackedBit) != 0;

    private bool LogAll => (Features & LogAllBit) != 0;

    /// <summary>
    /// Handles one decoded request. <paramref name="fds"/> are the fds that came with it; an fd the session keeps is
    /// removed from the list, the caller closes the rest. A reply (when the request has one) is written to
    /// <paramref name="reply"/>.
    /// </summary>
    /// <exception cref="VhostUserProtocolException">The request does not fit this device; drop the connection.</exception>
    public VhostUserHandleOutcome Handle(VhostUserMessage message, List<SafeFd> fds, Span<byte> reply, out int replyLength)
    {
        replyLength = 0;
        switch (message.Request)
        {
            case VhostUserRequest.GetFeatures:
                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.GetFeatures, OfferedFeatures);
                return VhostUserHandleOutcome.Replied;

            case VhostUserRequest.SetFeatures:
                SetFeatures(message.U64);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetOwner:
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.ResetOwner:
                // Deprecated; "use it to disable all rings". Like DPDK, everything negotiated is forgotten too.
                Reset();
                VhostUserBackendLog.Reset(_logger, _path, "VHOST_USER_RESET_OWNER");
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetMemTable:
                SetMemTable(message.MemoryRegions, fds);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetLogBase:
                SetLogBase(message.Log, fds);
                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.SetLogBase);
                return VhostUserHandleOutcome.Replied;

            case VhostUserRequest.SetLogFd:
                VhostUserBackendLog.LogFdClosed(_logger, _path); // DPDK closes it too
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetVringNum:
                SetVringNum(message.VringState);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetVringAddr:
                SetVringAddr(message.VringAddr);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetVringBase:
                SetVringBase(message.VringState);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.GetVringBase:
                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.GetVringBase, GetVringBase(message.VringState));
                return VhostUserHandleOutcome.Replied;

            case VhostUserRequest.SetVringKick:
            case VhostUserRequest.SetVringCall:
            case VhostUserRequest.SetVringErr:
                SetVringFile(message, fds);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.GetProtocolFeatures:
                RequireOffered(ProtocolFeaturesBit);
                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.GetProtocolFeatures, (ulong)OfferedProtocolFeatures);
                return VhostUserHandleOutcome.Replied;

            case VhostUserRequest.SetProtocolFeatures:
                SetProtocolFeatures((VhostUserProtocolFeatures)message.U64);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.GetQueueNum:
                if ((OfferedProtocolFeatures & VhostUserProtocolFeatures.Mq) == 0)
                {
                    throw Violation("VHOST_USER_PROTOCOL_F_MQ was not offered");
                }

                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.GetQueueNum, (ulong)_options.QueuePairs);
                return VhostUserHandleOutcome.Replied;

            case VhostUserRequest.SetVringEnable:
                SetVringEnable(message.VringState);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SendRarp:
                SendRarp(message.U64);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.NetSetMtu:
                RequireNegotiated(VhostUserProtocolFeatures.NetMtu);
                Mtu = (int)message.U64; // 68..65535: checked by the decoder
                PendingMtu = Mtu;
                VhostUserBackendLog.Mtu(_logger, _path, Mtu.Value);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.SetStatus:
                RequireNegotiated(VhostUserProtocolFeatures.Status);
                Status = (byte)message.U64; // 8 bits: checked by the decoder
                VhostUserBackendLog.Status(_logger, _path, Status);
                return VhostUserHandleOutcome.Done;

            case VhostUserRequest.GetStatus:
                RequireNegotiated(VhostUserProtocolFeatures.Status);
                replyLength = VhostUserMessageEncoder.EncodeReply(reply, VhostUserRequest.GetStatus, Status);
                return VhostUserHandleOutcome.Replied;

            default:
                // SET_BACKEND_REQ_FD, SET_VRING_ENDIAN, RESET_DEVICE, VRING_KICK, GET_MAX_MEM_SLOTS, ADD/REM_MEM_REG: their
                // protocol features (BACKEND_REQ, CROSS_ENDIAN, RESET_DEVICE, INBAND_NOTIFICATIONS, CONFIGURE_MEM_SLOTS)
                // are never offered.
                return VhostUserHandleOutcome.Unsupported;
        }
    }

    /// <summary>
    /// Back to the state of a new connection: every queue retired, memory and log unmapped, every fd closed, nothing
    /// negotiated. Used on RESET_OWNER and when the connection ends.
    /// </summary>
    public void Reset()
    {
        bool quiescent = RetireAll(keepBases: false);
        foreach (VhostVring ring in _vrings)
        {
            Release(ring.ReplaceCall(null), quiescent);
            ring.Reset();
        }

        Release(_memory, quiescent);
        Release(_log, quiescent);
        _memory = null;
        _log = null;
        Features = 0;
        FeaturesSet = false;
        ProtocolFeatures = VhostUserProtocolFeatures.None;
        Status = 0;
        Mtu = null;
        PendingMtu = null;
        PendingRarp = null;
    }

    /// <summary>
    /// Looks at every live queue's counters: returns the first ring found broken (the caller drops the connection),
    /// and logs rings with new faults.
    /// </summary>
    public VhostVring? CheckQueues(long[] lastFaults, IVhostQueue?[] lastQueues)
    {
        VhostVring? broken = null;
        for (int i = 0; i < _vrings.Length; i++)
        {
            IVhostQueue? q = _vrings[i].Slot.Current;
            if (q is null)
            {
                lastQueues[i] = null;
                continue;
            }

            VhostQueueStats s = q.Stats;
            long faults = Volatile.Read(ref s.Faults);
            long seen = ReferenceEquals(lastQueues[i], q) ? lastFaults[i] : 0;
            lastQueues[i] = q;
            lastFaults[i] = faults;
            if (faults > seen)
            {
                VhostUserBackendLog.QueueFaults(_logger, _path, i, faults - seen, s.LastFault.ToString(), s.LastFaultIndex);
            }

            if (Volatile.Read(ref s.Broken) > 0 && broken is null)
            {
                VhostUserBackendLog.RingBroken(_logger, _path, i, s.LastFault.ToString(), s.LastFaultIndex);
                broken = _vrings[i];
            }
        }

        return broken;
    }

    /// <summary>Resets, then frees what was kept for a data path that never left its queue, if it has left by now.</summary>
    public void Dispose()
    {
        Reset();
        if (_quarantine.Count == 0)
        {
            return;
        }

        bool quiescent = true;
        foreach (VhostVring ring in _vrings)
        {
            quiescent &= ring.Slot.WaitQuiescent(_options.RetireTimeout);
        }

        if (quiescent)
        {
            foreach (IDisposable d in _quarantine)
            {
                d.Dispose();
            }
        }
        else
        {
            VhostUserBackendLog.QuarantineLeaked(_logger, _path, _quarantine.Count);
        }

        _quarantine.Clear();
    }

    /// <summary>A refusal; the backend's log line names the request, the message says what was wrong.</summary>
    private static VhostUserProtocolException Violation(string reason) => new(reason);

    private static SafeFd TakeFd(List<SafeFd> fds)
    {
        SafeFd fd = fds[0];
        fds.RemoveAt(0);
        return fd;
    }

    private void SetFeatures(ulong features)
    {
        ulong notOffered = features & ~OfferedFeatures;
        if (notOffered != 0)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"feature bits 0x{notOffered:X} were not offered (offered 0x{OfferedFeatures:X}, requested 0x{features:X})"));
        }

        // DPDK: once the device runs, only VHOST_F_LOG_ALL may change (live migration starts and stops logging).
        if (FeaturesSet && AnyQueueLive && ((Features ^ features) & ~LogAllBit) != 0)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"features change from 0x{Features:X} to 0x{features:X} while rings are running; only VHOST_F_LOG_ALL may change then"));
        }

        bool logToggled = ((Features ^ features) & LogAllBit) != 0;
        Features = features;
        FeaturesSet = true;
        VhostUserBackendLog.FeaturesSet(_logger, _path, features);
        if (logToggled && AnyQueueLive)
        {
            // Live queues start or stop marking the dirty log: rebuild them with or without it.
            RetireAll(keepBases: true);
        }

        ReconcileAll();
    }

    private void SetProtocolFeatures(VhostUserProtocolFeatures features)
    {
        RequireOffered(ProtocolFeaturesBit);
        VhostUserProtocolFeatures notOffered = features & ~OfferedProtocolFeatures;
        if (notOffered != 0)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"protocol feature bits 0x{(ulong)notOffered:X} were not offered (offered 0x{(ulong)OfferedProtocolFeatures:X})"));
        }

        ProtocolFeatures = features;
        VhostUserBackendLog.ProtocolFeaturesSet(_logger, _path, (ulong)features);
    }

    private void SetMemTable(ReadOnlySpan<VhostMemoryRegion> regions, List<SafeFd> fds)
    {
        if (_memory is not null && _memory.IsSameLayout(regions))
        {
            VhostUserBackendLog.MemoryTableUnchanged(_logger, _path); // the new fds are closed by the caller
            return;
        }

        VhostMemoryTable table = VhostMemoryTable.Map(regions, fds);
        VhostMemoryTable? old = _memory;

        // Every queue reads through the old table: out of the data path first, then unmapped, then rebuilt.
        bool quiescent = RetireAll(keepBases: true);
        _memory = table;
        Release(old, quiescent);
        VhostUserBackendLog.MemoryTable(_logger, _path, table.Count, table.ToString());
        WarnIfLogTooSmall();
        ReconcileAll();
    }

    private void SetLogBase(VhostUserLog log, List<SafeFd> fds)
    {
        RequireNegotiated(VhostUserProtocolFeatures.LogShmfd);
        VhostLogMapping mapping = VhostLogMapping.Map(fds[0], log);
        VhostLogMapping? old = _log;
        bool used = LogAll && AnyQueueLive; // queues mark the log only with VHOST_F_LOG_ALL
        bool quiescent = !used || RetireAll(keepBases: true);
        _log = mapping;
        Release(old, quiescent);
        VhostUserBackendLog.LogBase(_logger, _path, log.MmapSize, log.MmapOffset, mapping.Log.PageCount > ulong.MaxValue / DirtyLogPage ? ulong.MaxValue : mapping.Log.PageCount * DirtyLogPage);
        WarnIfLogTooSmall();
        if (used)
        {
            ReconcileAll();
        }
    }

    private void WarnIfLogTooSmall()
    {
        if (_log is null || _memory is null)
        {
            return;
        }

        ulong pages = _log.Log.PageCount;
        ulong covers = pages > ulong.MaxValue / DirtyLogPage ? ulong.MaxValue : pages * DirtyLogPage;
        ulong end = _memory.GuestPhysicalEnd;
        if (covers < end)
        {
            VhostUserBackendLog.LogTooSmall(_logger, _path, covers, end);
        }
    }

    private void SetVringNum(VhostVringState state)
    {
        VhostVring ring = Ring(state.Index);
        if (!Packed && (state.Num & (state.Num - 1)) != 0)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"vring {state.Index} size {state.Num} is not a power of two, which a split ring needs (VIRTIO_F_RING_PACKED is not negotiated)"));
        }

        if (ring.Num == state.Num)
        {
            return;
        }

        ring.Num = state.Num;
        Restart(ring, keepBase: true);
    }

    private void SetVringAddr(VhostVringAddr addr)
    {
        VhostVring ring = Ring(addr.Index);
        ring.Addr = addr;
        Restart(ring, keepBase: true);
    }

    private void SetVringBase(VhostVringState state)
    {
        VhostVring ring = Ring(state.Index);
        if (!Packed && state.Num > ushort.MaxValue)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"vring {state.Index} base 0x{state.Num:X} does not fit the 16-bit index of a split ring"));
        }

        ring.Base = state.Num;
        Restart(ring, keepBase: false);
    }

    private VhostVringState GetVringBase(VhostVringState state)
    {
        VhostVring ring = Ring(state.Index);

        // "stop ring upon receiving VHOST_USER_GET_VRING_BASE": out of the data path, then its position.
        bool quiescent = true;
        if (ring.Slot.IsActive)
        {
            quiescent = Retire(ring, keepBase: true);
        }

        uint value = ring.Base ?? 0;
        if (Packed)
        {
            // Bits 0-14 avail index, 15 avail wrap; 16-30 used index, 31 used wrap. Our packed queue uses chains in
            // order and at once, so the used position equals the avail position (QEMU restores both from this).
            uint avail = value & 0xFFFF;
            value = avail | (avail << 16);
        }

        Release(ring.Stop(), quiescent); // DPDK closes kick and call: the ring needs a new kick to start again
        VhostUserBackendLog.QueueStopped(_logger, _path, ring.Index, value);
        return new VhostVringState(state.Index, value);
    }

    private void SetVringFile(VhostUserMessage message, List<SafeFd> fds)
    {
        VhostVring ring = Ring(message.VringIndex);
        if (message.VringFileHasFd && !IsEventFd(fds[0], out string? what))
        {
            // The queue writes the call fd from the data path: a pipe or a socket there could block the lcore.
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"vring {ring.Index}: the fd is not an eventfd ({what})"));
        }

        EventFd? fd = message.VringFileHasFd ? EventFd.FromDescriptor(TakeFd(fds)) : null;
        switch (message.Request)
        {
            case VhostUserRequest.SetVringKick:
                ring.SetKick(fd); // the data path polls: the kick fd only marks the ring as started
                Reconcile(ring);
                break;

            case VhostUserRequest.SetVringCall:
                if (ring.Slot.IsActive)
                {
                    bool quiescent = Retire(ring, keepBase: true);
                    Release(ring.ReplaceCall(fd), quiescent);
                    Reconcile(ring);
                }
                else
                {
                    ring.ReplaceCall(fd)?.Dispose();
                }

                break;

            default:
                ring.SetErr(fd);
                break;
        }
    }

    /// <summary>Whether <paramref name="fd"/> is an eventfd (/proc/self/fd/N links to "anon_inode:[eventfd]"); when /proc cannot tell, it is taken as one.</summary>
    private static bool IsEventFd(SafeFd fd, out string? target)
    {
        try
        {
            target = new FileInfo(string.Create(CultureInfo.InvariantCulture, $"/proc/self/fd/{fd.Fd}")).LinkTarget;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            target = null;
        }

        return target is null || target == "anon_inode:[eventfd]";
    }

    private void SetVringEnable(VhostVringState state)
    {
        VhostVring ring = Ring(state.Index);
        ring.Enabled = state.Num == 1;
        Reconcile(ring);
    }

    private void SendRarp(ulong payload)
    {
        RequireNegotiated(VhostUserProtocolFeatures.Rarp);

        // "The first 6 bytes of the payload contain the mac address of the guest" (machine byte order: memory order).
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        MemoryMarshal.Write(bytes, in payload);
        var mac = new MacAddress(bytes[..MacAddress.Length]);
        PendingRarp = mac;
        VhostUserBackendLog.Rarp(_logger, _path, mac.ToString());
    }

    private void RequireOffered(ulong featureBit)
    {
        if ((OfferedFeatures & featureBit) == 0)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"feature bit 0x{featureBit:X} it depends on was not offered"));
        }
    }

    private void RequireNegotiated(VhostUserProtocolFeatures feature)
    {
        if ((ProtocolFeatures & feature) == 0)
        {
            throw Violation($"protocol feature {feature} was not negotiated (negotiated: {ProtocolFeatures})");
        }
    }

    private VhostVring Ring(uint index)
    {
        if (index >= (uint)_vrings.Length)
        {
            throw Violation(string.Create(CultureInfo.InvariantCulture, $"vring index {index} is out of range: this device has {_vrings.Length} vrings ({_options.QueuePairs} queue pair(s))"));
        }

        return _vrings[index];
    }

    private bool IsUsable(VhostVring ring) =>
        _memory is not null
        && FeaturesSet
        && ring.Num != 0
        && ring.Addr is not null
        && ring.Base is not null
        && ring.HasKick
        && (ring.Enabled || (Features & ProtocolFeaturesBit) == 0);

    /// <summary>Builds the queue of a usable ring that has none; retires the queue of a ring that is no longer usable.</summary>
    private void Reconcile(VhostVring ring)
    {
        bool live = ring.Slot.IsActive;
        bool usable = IsUsable(ring);
        if (live && !usable)
        {
            Retire(ring, keepBase: true);
        }
        else if (!live && usable)
        {
            Start(ring);
        }
    }

    private void ReconcileAll()
    {
        foreach (VhostVring ring in _vrings)
        {
            Reconcile(ring);
        }
    }

    /// <summary>The ring's setup changed: retire its queue (if any) and build a new one if it is usable.</summary>
    private void Restart(VhostVring ring, bool keepBase)
    {
        if (ring.Slot.IsActive)
        {
            Retire(ring, keepBase);
        }

        Reconcile(ring);
    }

    private bool Retire(VhostVring ring, bool keepBase)
    {
        bool quiescent = ring.Slot.TryRetire(_options.RetireTimeout, out IVhostQueue? retired);
        if (!quiescent)
        {
            _counters.RetireTimedOut();
            VhostUserBackendLog.RetireTimeout(_logger, _path, ring.Index, _options.RetireTimeout.TotalMilliseconds);
        }

        if (retired is not null && keepBase)
        {
            ring.Base = retired.GetBase();
        }

        return quiescent;
    }

    /// <summary>Retires every live queue: all slots cleared first, then each waited for. True when every data path left in time.</summary>
    private bool RetireAll(bool keepBases)
    {
        var retired = new IVhostQueue?[_vrings.Length];
        for (int i = 0; i < _vrings.Length; i++)
        {
            retired[i] = _vrings[i].Slot.Clear();
        }

        bool quiescent = true;
        for (int i = 0; i < _vrings.Length; i++)
        {
            if (retired[i] is null)
            {
                continue;
            }

            if (!_vrings[i].Slot.WaitQuiescent(_options.RetireTimeout))
            {
                quiescent = false;
                _counters.RetireTimedOut();
                VhostUserBackendLog.RetireTimeout(_logger, _path, i, _options.RetireTimeout.TotalMilliseconds);
            }

            if (keepBases)
            {
                _vrings[i].Base = retired[i]!.GetBase();
            }
        }

        return quiescent;
    }

    private void Start(VhostVring ring)
    {
        bool packed = Packed;
        uint value = ring.Base!.Value;
        if (packed)
        {
            uint avail = value & 0xFFFF;
            uint used = value >> 16;
            if (used != 0 && used != avail)
            {
                VhostUserBackendLog.PackedBaseMismatch(_logger, _path, ring.Index, value, used, avail);
            }

            value = avail;
        }

        VhostVringAddr addr = ring.Addr!.Value;
        bool logging = LogAll && _log is not null;
        var setup = new VirtqueueSetup
        {
            Index = ring.Index,
            Size = (int)ring.Num,
            DescUserAddr = addr.DescUserAddr,
            AvailUserAddr = addr.AvailUserAddr,
            UsedUserAddr = addr.UsedUserAddr,
            UsedLogGuestAddr = addr.LogGuestAddr,
            LogUsedRing = addr.LogEnabled,
            Base = value,
            Features = Features,
            Memory = _memory!.Memory,
            Log = logging ? _log!.Log : null,
            Call = ring.Call,
        };

        IVhostQueue? queue;
        string? error;
        if (packed)
        {
            queue = PackedVhostQueue.TryCreate(setup, out PackedVhostQueue? p, out error) ? p : null;
        }
        else
        {
            queue = SplitVhostQueue.TryCreate(setup, out SplitVhostQueue? s, out error) ? s : null;
        }

        if (queue is null)
        {
            throw Violation(
                $"vring {ring.Index} is set up, but the {(packed ? "packed" : "split")} ring cannot be used: {error}");
        }

        ring.Slot.Publish(queue);
        VhostUserBackendLog.QueueStarted(_logger, _path, ring.Index, packed ? "packed" : "split", ring.Num, value, Features, logging);
    }

    /// <summary>Frees what a retired queue used, or keeps it for later when a data path may still be inside that queue.</summary>
    private void Release(IDisposable? resource, bool quiescent)
    {
        if (resource is null)
        {
            return;
        }

        if (quiescent)
        {
            resource.Dispose();
        }
        else
        {
            _quarantine.Add(resource);
        }
    }
}
