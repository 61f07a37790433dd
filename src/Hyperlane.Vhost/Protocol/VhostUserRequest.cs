namespace Hyperlane.Vhost.Protocol;

/// <summary>
/// Front-end (frontend → backend) message types (vhost-user.rst "Front-end message types"; the spec name of
/// each is VHOST_USER_ + the upper-case name). Numbers are the spec's <c>:id:</c>.
/// <see cref="VhostUserRequestInfo"/> says which of them Hyperlane decodes.
/// </summary>
#pragma warning disable CA1028 // the wire field is a u32
public enum VhostUserRequest : uint
#pragma warning restore CA1028
{
    /// <summary>VHOST_USER_NONE (0): not a request.</summary>
    None = 0,

    /// <summary>VHOST_USER_GET_FEATURES (1): reply u64 (virtio + vhost feature bits).</summary>
    GetFeatures = 1,

    /// <summary>VHOST_USER_SET_FEATURES (2): u64.</summary>
    SetFeatures = 2,

    /// <summary>VHOST_USER_SET_OWNER (3): session start.</summary>
    SetOwner = 3,

    /// <summary>VHOST_USER_RESET_OWNER (4): deprecated; disable all rings.</summary>
    ResetOwner = 4,

    /// <summary>VHOST_USER_SET_MEM_TABLE (5): memory regions description; one fd per region.</summary>
    SetMemTable = 5,

    /// <summary>VHOST_USER_SET_LOG_BASE (6): log description; one fd (LOG_SHMFD).</summary>
    SetLogBase = 6,

    /// <summary>VHOST_USER_SET_LOG_FD (7): one eventfd, no payload.</summary>
    SetLogFd = 7,

    /// <summary>VHOST_USER_SET_VRING_NUM (8): vring state (index, size).</summary>
    SetVringNum = 8,

    /// <summary>VHOST_USER_SET_VRING_ADDR (9): vring address description.</summary>
    SetVringAddr = 9,

    /// <summary>VHOST_USER_SET_VRING_BASE (10): vring state (index, next descriptor index/indices).</summary>
    SetVringBase = 10,

    /// <summary>VHOST_USER_GET_VRING_BASE (11): vring state; stops the ring; reply vring state.</summary>
    GetVringBase = 11,

    /// <summary>VHOST_USER_SET_VRING_KICK (12): u64 index | NOFD; one fd unless NOFD.</summary>
    SetVringKick = 12,

    /// <summary>VHOST_USER_SET_VRING_CALL (13): u64 index | NOFD; one fd unless NOFD.</summary>
    SetVringCall = 13,

    /// <summary>VHOST_USER_SET_VRING_ERR (14): u64 index | NOFD; one fd unless NOFD.</summary>
    SetVringErr = 14,

    /// <summary>VHOST_USER_GET_PROTOCOL_FEATURES (15): reply u64.</summary>
    GetProtocolFeatures = 15,

    /// <summary>VHOST_USER_SET_PROTOCOL_FEATURES (16): u64.</summary>
    SetProtocolFeatures = 16,

    /// <summary>VHOST_USER_GET_QUEUE_NUM (17): reply u64 (MQ).</summary>
    GetQueueNum = 17,

    /// <summary>VHOST_USER_SET_VRING_ENABLE (18): vring state (index, 0/1).</summary>
    SetVringEnable = 18,

    /// <summary>VHOST_USER_SEND_RARP (19): u64 whose first 6 bytes are the guest MAC (RARP).</summary>
    SendRarp = 19,

    /// <summary>VHOST_USER_NET_SET_MTU (20): u64 (NET_MTU).</summary>
    NetSetMtu = 20,

    /// <summary>VHOST_USER_SET_BACKEND_REQ_FD (21, formerly SET_SLAVE_REQ_FD): one socket fd, no payload.</summary>
    SetBackendReqFd = 21,

    /// <summary>VHOST_USER_IOTLB_MSG (22): struct vhost_iotlb_msg (ACCESS_PLATFORM).</summary>
    IotlbMsg = 22,

    /// <summary>VHOST_USER_SET_VRING_ENDIAN (23): vring state (index, 0 little / 1 big) (CROSS_ENDIAN).</summary>
    SetVringEndian = 23,

    /// <summary>VHOST_USER_GET_CONFIG (24): virtio device config space (CONFIG).</summary>
    GetConfig = 24,

    /// <summary>VHOST_USER_SET_CONFIG (25): virtio device config space (CONFIG).</summary>
    SetConfig = 25,

    /// <summary>VHOST_USER_CREATE_CRYPTO_SESSION (26) (CRYPTO_SESSION).</summary>
    CreateCryptoSession = 26,

    /// <summary>VHOST_USER_CLOSE_CRYPTO_SESSION (27) (CRYPTO_SESSION).</summary>
    CloseCryptoSession = 27,

    /// <summary>VHOST_USER_POSTCOPY_ADVISE (28) (PAGEFAULT).</summary>
    PostcopyAdvise = 28,

    /// <summary>VHOST_USER_POSTCOPY_LISTEN (29) (PAGEFAULT).</summary>
    PostcopyListen = 29,

    /// <summary>VHOST_USER_POSTCOPY_END (30) (PAGEFAULT).</summary>
    PostcopyEnd = 30,

    /// <summary>VHOST_USER_GET_INFLIGHT_FD (31) (INFLIGHT_SHMFD).</summary>
    GetInflightFd = 31,

    /// <summary>VHOST_USER_SET_INFLIGHT_FD (32) (INFLIGHT_SHMFD).</summary>
    SetInflightFd = 32,

    /// <summary>VHOST_USER_GPU_SET_SOCKET (33) (vhost-user-gpu).</summary>
    GpuSetSocket = 33,

    /// <summary>VHOST_USER_RESET_DEVICE (34): disable all rings and reset device state (RESET_DEVICE).</summary>
    ResetDevice = 34,

    /// <summary>VHOST_USER_VRING_KICK (35): vring state (index, 0), an in-band kick (INBAND_NOTIFICATIONS).</summary>
    VringKick = 35,

    /// <summary>VHOST_USER_GET_MAX_MEM_SLOTS (36): reply u64 (CONFIGURE_MEM_SLOTS).</summary>
    GetMaxMemSlots = 36,

    /// <summary>VHOST_USER_ADD_MEM_REG (37): single memory region description; one fd (CONFIGURE_MEM_SLOTS).</summary>
    AddMemReg = 37,

    /// <summary>VHOST_USER_REM_MEM_REG (38): single memory region description; no fd (one tolerated) (CONFIGURE_MEM_SLOTS).</summary>
    RemMemReg = 38,

    /// <summary>VHOST_USER_SET_STATUS (39): u64 holding the 8-bit virtio device status (STATUS).</summary>
    SetStatus = 39,

    /// <summary>VHOST_USER_GET_STATUS (40): reply u64 (STATUS).</summary>
    GetStatus = 40,

    /// <summary>VHOST_USER_GET_SHARED_OBJECT (41) (SHARED_OBJECT).</summary>
    GetSharedObject = 41,

    /// <summary>VHOST_USER_SET_DEVICE_STATE_FD (42) (DEVICE_STATE).</summary>
    SetDeviceStateFd = 42,

    /// <summary>VHOST_USER_CHECK_DEVICE_STATE (43) (DEVICE_STATE).</summary>
    CheckDeviceState = 43,
}
