namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// vhost-user protocol feature masks (vhost-user.rst "Protocol features": bit n is VHOST_USER_PROTOCOL_F_*),
/// negotiated by GET/SET_PROTOCOL_FEATURES once VHOST_USER_F_PROTOCOL_FEATURES (virtio feature bit 30) is offered.
/// </summary>
[Flags]
#pragma warning disable CA1028 // the wire field is a u64
public enum VhostUserProtocolFeatures : ulong
#pragma warning restore CA1028
{
    /// <summary>No protocol feature.</summary>
    None = 0,

    /// <summary>VHOST_USER_PROTOCOL_F_MQ (bit 0): GET_QUEUE_NUM.</summary>
    Mq = 1UL << 0,

    /// <summary>VHOST_USER_PROTOCOL_F_LOG_SHMFD (bit 1): SET_LOG_BASE carries an fd (and is answered).</summary>
    LogShmfd = 1UL << 1,

    /// <summary>VHOST_USER_PROTOCOL_F_RARP (bit 2): SEND_RARP.</summary>
    Rarp = 1UL << 2,

    /// <summary>VHOST_USER_PROTOCOL_F_REPLY_ACK (bit 3): the NEED_REPLY flag is honoured.</summary>
    ReplyAck = 1UL << 3,

    /// <summary>VHOST_USER_PROTOCOL_F_MTU (bit 4; "NET_MTU" in the NET_SET_MTU text and DPDK): NET_SET_MTU.</summary>
    NetMtu = 1UL << 4,

    /// <summary>VHOST_USER_PROTOCOL_F_BACKEND_REQ (bit 5, formerly SLAVE_REQ): SET_BACKEND_REQ_FD.</summary>
    BackendReq = 1UL << 5,

    /// <summary>VHOST_USER_PROTOCOL_F_CROSS_ENDIAN (bit 6): SET_VRING_ENDIAN.</summary>
    CrossEndian = 1UL << 6,

    /// <summary>VHOST_USER_PROTOCOL_F_CRYPTO_SESSION (bit 7).</summary>
    CryptoSession = 1UL << 7,

    /// <summary>VHOST_USER_PROTOCOL_F_PAGEFAULT (bit 8): postcopy.</summary>
    Pagefault = 1UL << 8,

    /// <summary>VHOST_USER_PROTOCOL_F_CONFIG (bit 9): GET/SET_CONFIG.</summary>
    Config = 1UL << 9,

    /// <summary>VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD (bit 10, formerly SLAVE_SEND_FD).</summary>
    BackendSendFd = 1UL << 10,

    /// <summary>VHOST_USER_PROTOCOL_F_HOST_NOTIFIER (bit 11): VRING_HOST_NOTIFIER_MSG (vDPA).</summary>
    HostNotifier = 1UL << 11,

    /// <summary>VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD (bit 12): GET/SET_INFLIGHT_FD.</summary>
    InflightShmfd = 1UL << 12,

    /// <summary>VHOST_USER_PROTOCOL_F_RESET_DEVICE (bit 13): RESET_DEVICE.</summary>
    ResetDevice = 1UL << 13,

    /// <summary>VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS (bit 14): VRING_KICK and backend VRING_CALL/ERR.</summary>
    InbandNotifications = 1UL << 14,

    /// <summary>VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS (bit 15): GET_MAX_MEM_SLOTS, ADD/REM_MEM_REG.</summary>
    ConfigureMemSlots = 1UL << 15,

    /// <summary>VHOST_USER_PROTOCOL_F_STATUS (bit 16): SET/GET_STATUS.</summary>
    Status = 1UL << 16,

    /// <summary>VHOST_USER_PROTOCOL_F_XEN_MMAP (bit 17): Xen region fields.</summary>
    XenMmap = 1UL << 17,

    /// <summary>VHOST_USER_PROTOCOL_F_SHARED_OBJECT (bit 18).</summary>
    SharedObject = 1UL << 18,

    /// <summary>VHOST_USER_PROTOCOL_F_DEVICE_STATE (bit 19): SET_DEVICE_STATE_FD, CHECK_DEVICE_STATE.</summary>
    DeviceState = 1UL << 19,
}
