using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// struct epoll_event (include/uapi/linux/eventpoll.h) on every 64-bit architecture but x86-64 (arm64,
/// riscv64, ...): not packed, so 16 bytes with the data at offset 8.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EpollEventAligned
{
    public EpollEvents Events;
    public ulong Data;
}
