namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// What each front-end request carries, as vhost-user.rst "Front-end message types" describes it: the spec
/// name, the request payload, the fds, whether the backend always replies and with what. Requests Hyperlane does
/// not implement (their protocol features are never offered) are known but unsupported: the decoder rejects them.
/// </summary>
public static class VhostUserRequestInfo
{
    /// <summary>Whether <paramref name="request"/> is a front-end message type the spec defines (1-43).</summary>
    public static bool IsKnown(VhostUserRequest request) => request is >= VhostUserRequest.GetFeatures and <= VhostUserRequest.CheckDeviceState;

    /// <summary>Whether Hyperlane decodes <paramref name="request"/>: the unsupported ones need a protocol or virtio feature Hyperlane never offers.</summary>
    public static bool IsSupported(VhostUserRequest request) => Get(request).Supported;

    /// <summary>The spec name, e.g. VHOST_USER_SET_MEM_TABLE, or "request N" for an unknown number.</summary>
    public static string SpecName(VhostUserRequest request) => Get(request).Name ?? $"request {(uint)request}";

    /// <summary>The request payload shape.</summary>
    public static VhostUserPayloadKind RequestPayload(VhostUserRequest request) => Get(request).Payload;

    /// <summary>How many fds the request carries.</summary>
    public static VhostUserFdPolicy FdPolicy(VhostUserRequest request) => Get(request).Fds;

    /// <summary>
    /// Whether the backend replies even without NEED_REPLY (vhost-user.rst "Communication": GET_FEATURES,
    /// GET_PROTOCOL_FEATURES, GET_VRING_BASE, SET_LOG_BASE with LOG_SHMFD, ...; plus GET_QUEUE_NUM,
    /// GET_MAX_MEM_SLOTS and GET_STATUS, whose reply payload is a u64).
    /// </summary>
    public static bool HasReply(VhostUserRequest request) => Get(request).HasReply;

    /// <summary>
    /// The reply payload when <see cref="HasReply"/>; <see cref="VhostUserPayloadKind.None"/> otherwise (then a
    /// NEED_REPLY acknowledgement is a u64: 0 success, non-zero failure). SET_LOG_BASE's reply carries no payload
    /// (DPDK; QEMU accepts any).
    /// </summary>
    public static VhostUserPayloadKind ReplyPayload(VhostUserRequest request) => Get(request).Reply;

    private readonly record struct Rule(
        string? Name, VhostUserPayloadKind Payload, VhostUserFdPolicy Fds, bool HasReply, VhostUserPayloadKind Reply, bool Supported);

    private static Rule Supported(string name, VhostUserPayloadKind payload, VhostUserFdPolicy fds = VhostUserFdPolicy.None) =>
        new(name, payload, fds, false, VhostUserPayloadKind.None, true);

    private static Rule Replying(string name, VhostUserPayloadKind payload, VhostUserPayloadKind reply, VhostUserFdPolicy fds = VhostUserFdPolicy.None) =>
        new(name, payload, fds, true, reply, true);

    private static Rule Unsupported(string name) =>
        new(name, VhostUserPayloadKind.None, VhostUserFdPolicy.None, false, VhostUserPayloadKind.None, false);

    private static Rule Get(VhostUserRequest request) => request switch
    {
        VhostUserRequest.GetFeatures => Replying("VHOST_USER_GET_FEATURES", VhostUserPayloadKind.None, VhostUserPayloadKind.U64),
        VhostUserRequest.SetFeatures => Supported("VHOST_USER_SET_FEATURES", VhostUserPayloadKind.U64),
        VhostUserRequest.SetOwner => Supported("VHOST_USER_SET_OWNER", VhostUserPayloadKind.None),
        VhostUserRequest.ResetOwner => Supported("VHOST_USER_RESET_OWNER", VhostUserPayloadKind.None),
        VhostUserRequest.SetMemTable => Supported("VHOST_USER_SET_MEM_TABLE", VhostUserPayloadKind.Memory, VhostUserFdPolicy.OnePerRegion),
        VhostUserRequest.SetLogBase => Replying("VHOST_USER_SET_LOG_BASE", VhostUserPayloadKind.Log, VhostUserPayloadKind.None, VhostUserFdPolicy.One),
        VhostUserRequest.SetLogFd => Supported("VHOST_USER_SET_LOG_FD", VhostUserPayloadKind.None, VhostUserFdPolicy.One),
        VhostUserRequest.SetVringNum => Supported("VHOST_USER_SET_VRING_NUM", VhostUserPayloadKind.VringState),
        VhostUserRequest.SetVringAddr => Supported("VHOST_USER_SET_VRING_ADDR", VhostUserPayloadKind.VringAddr),
        VhostUserRequest.SetVringBase => Supported("VHOST_USER_SET_VRING_BASE", VhostUserPayloadKind.VringState),
        VhostUserRequest.GetVringBase => Replying("VHOST_USER_GET_VRING_BASE", VhostUserPayloadKind.VringState, VhostUserPayloadKind.VringState),
        VhostUserRequest.SetVringKick => Supported("VHOST_USER_SET_VRING_KICK", VhostUserPayloadKind.VringFile, VhostUserFdPolicy.OneUnlessNoFd),
        VhostUserRequest.SetVringCall => Supported("VHOST_USER_SET_VRING_CALL", VhostUserPayloadKind.VringFile, VhostUserFdPolicy.OneUnlessNoFd),
        VhostUserRequest.SetVringErr => Supported("VHOST_USER_SET_VRING_ERR", VhostUserPayloadKind.VringFile, VhostUserFdPolicy.OneUnlessNoFd),
        VhostUserRequest.GetProtocolFeatures => Replying("VHOST_USER_GET_PROTOCOL_FEATURES", VhostUserPayloadKind.None, VhostUserPayloadKind.U64),
        VhostUserRequest.SetProtocolFeatures => Supported("VHOST_USER_SET_PROTOCOL_FEATURES", VhostUserPayloadKind.U64),
        VhostUserRequest.GetQueueNum => Replying("VHOST_USER_GET_QUEUE_NUM", VhostUserPayloadKind.None, VhostUserPayloadKind.U64),
        VhostUserRequest.SetVringEnable => Supported("VHOST_USER_SET_VRING_ENABLE", VhostUserPayloadKind.VringState),
        VhostUserRequest.SendRarp => Supported("VHOST_USER_SEND_RARP", VhostUserPayloadKind.U64),
        VhostUserRequest.NetSetMtu => Supported("VHOST_USER_NET_SET_MTU", VhostUserPayloadKind.U64),
        VhostUserRequest.SetBackendReqFd => Supported("VHOST_USER_SET_BACKEND_REQ_FD", VhostUserPayloadKind.None, VhostUserFdPolicy.One),
        VhostUserRequest.IotlbMsg => Unsupported("VHOST_USER_IOTLB_MSG"),                  // VIRTIO_F_ACCESS_PLATFORM not offered
        VhostUserRequest.SetVringEndian => Supported("VHOST_USER_SET_VRING_ENDIAN", VhostUserPayloadKind.VringState),
        VhostUserRequest.GetConfig => Unsupported("VHOST_USER_GET_CONFIG"),                // PROTOCOL_F_CONFIG not offered (net)
        VhostUserRequest.SetConfig => Unsupported("VHOST_USER_SET_CONFIG"),
        VhostUserRequest.CreateCryptoSession => Unsupported("VHOST_USER_CREATE_CRYPTO_SESSION"),
        VhostUserRequest.CloseCryptoSession => Unsupported("VHOST_USER_CLOSE_CRYPTO_SESSION"),
        VhostUserRequest.PostcopyAdvise => Unsupported("VHOST_USER_POSTCOPY_ADVISE"),      // PROTOCOL_F_PAGEFAULT not offered
        VhostUserRequest.PostcopyListen => Unsupported("VHOST_USER_POSTCOPY_LISTEN"),
        VhostUserRequest.PostcopyEnd => Unsupported("VHOST_USER_POSTCOPY_END"),
        VhostUserRequest.GetInflightFd => Unsupported("VHOST_USER_GET_INFLIGHT_FD"),       // PROTOCOL_F_INFLIGHT_SHMFD not offered
        VhostUserRequest.SetInflightFd => Unsupported("VHOST_USER_SET_INFLIGHT_FD"),
        VhostUserRequest.GpuSetSocket => Unsupported("VHOST_USER_GPU_SET_SOCKET"),
        VhostUserRequest.ResetDevice => Supported("VHOST_USER_RESET_DEVICE", VhostUserPayloadKind.None),
        VhostUserRequest.VringKick => Supported("VHOST_USER_VRING_KICK", VhostUserPayloadKind.VringState),
        VhostUserRequest.GetMaxMemSlots => Replying("VHOST_USER_GET_MAX_MEM_SLOTS", VhostUserPayloadKind.None, VhostUserPayloadKind.U64),
        VhostUserRequest.AddMemReg => Supported("VHOST_USER_ADD_MEM_REG", VhostUserPayloadKind.SingleMemoryRegion, VhostUserFdPolicy.One),
        VhostUserRequest.RemMemReg => Supported("VHOST_USER_REM_MEM_REG", VhostUserPayloadKind.SingleMemoryRegion, VhostUserFdPolicy.NoneOrOne),
        VhostUserRequest.SetStatus => Supported("VHOST_USER_SET_STATUS", VhostUserPayloadKind.U64),
        VhostUserRequest.GetStatus => Replying("VHOST_USER_GET_STATUS", VhostUserPayloadKind.None, VhostUserPayloadKind.U64),
        VhostUserRequest.GetSharedObject => Unsupported("VHOST_USER_GET_SHARED_OBJECT"),   // PROTOCOL_F_SHARED_OBJECT not offered
        VhostUserRequest.SetDeviceStateFd => Unsupported("VHOST_USER_SET_DEVICE_STATE_FD"), // PROTOCOL_F_DEVICE_STATE not offered
        VhostUserRequest.CheckDeviceState => Unsupported("VHOST_USER_CHECK_DEVICE_STATE"),
        _ => new Rule(null, VhostUserPayloadKind.None, VhostUserFdPolicy.None, false, VhostUserPayloadKind.None, false),
    };
}
