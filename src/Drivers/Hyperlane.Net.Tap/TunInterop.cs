using Hyperlane.Linux;

namespace Hyperlane.Net.Tap;

/// <summary>
/// The TUN/TAP character device contract (linux/if_tun.h, Documentation/networking/tuntap.rst): ioctl
/// numbers, IFF_* and TUN_F_* flags, and the few calls the driver makes on /dev/net/tun.
/// </summary>
internal static unsafe class TunInterop
{
    public const string DevicePath = "/dev/net/tun";

    // _IOW('T', n, int) = 0x40045400 | n ; _IOR('T', n, int) = 0x80045400 | n
    public const nuint TUNSETIFF = 0x400454ca;
    public const nuint TUNSETPERSIST = 0x400454cb;
    public const nuint TUNSETOFFLOAD = 0x400454d0;
    public const nuint TUNGETIFF = 0x800454d2;
    public const nuint TUNSETVNETHDRSZ = 0x400454d8;
    public const nuint TUNSETQUEUE = 0x400454d9;

    public const short IFF_TUN = 0x0001;
    public const short IFF_TAP = 0x0002;
    public const short IFF_MULTI_QUEUE = 0x0100;
    public const short IFF_ATTACH_QUEUE = 0x0200;
    public const short IFF_DETACH_QUEUE = 0x0400;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_VNET_HDR = 0x4000;

    public const uint TUN_F_CSUM = 0x01;
    public const uint TUN_F_TSO4 = 0x02;
    public const uint TUN_F_TSO6 = 0x04;

    /// <summary>Most queues a multi-queue tun takes is 256 (MAX_TAP_QUEUES); DPDK's tap stops at 64.</summary>
    public const int MaxQueues = 64;

    /// <summary>
    /// Opens /dev/net/tun and binds the fd to <paramref name="name"/> (creating the device, or attaching a
    /// queue to it). Returns the fd and the name the kernel gave (the %d template filled in).
    /// </summary>
    public static SafeFd Attach(string name, short flags, bool nonBlocking, out string actualName, SafeFd? netns = null)
    {
        SafeFd fd = netns is null ? OpenTun(nonBlocking) : OpenTunIn(netns, nonBlocking);
        try
        {
            IfReq req = IfReq.Create(name, flags);
            Syscalls.Ioctl(fd.Fd, TUNSETIFF, &req).ThrowIfFailed($"TUNSETIFF {name}");
            actualName = req.GetName();
            return fd;
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>The calling thread's network namespace, to open later queue fds in (a tun fd belongs to the namespace it was opened in).</summary>
    public static SafeFd OpenCurrentNetNamespace()
    {
        Syscalls.Open("/proc/thread-self/ns/net", Syscalls.O_RDONLY, out SafeFd? ns).ThrowIfFailed("open /proc/thread-self/ns/net");
        return ns!;
    }

    private static SafeFd OpenTun(bool nonBlocking)
    {
        Syscalls.Open(DevicePath, Syscalls.O_RDWR | (nonBlocking ? Syscalls.O_NONBLOCK : 0), out SafeFd? fd)
            .ThrowIfFailed("open " + DevicePath);
        return fd!;
    }

    /// <summary>Opens /dev/net/tun on a short-lived thread that first enters <paramref name="netns"/> (control path only).</summary>
    private static SafeFd OpenTunIn(SafeFd netns, bool nonBlocking)
    {
        SafeFd? fd = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                Syscalls.SetNs(netns.Fd, Syscalls.CLONE_NEWNET).ThrowIfFailed("setns into the port's network namespace");
                fd = OpenTun(nonBlocking);
            }
            catch (LinuxException ex)
            {
                error = ex;
            }
        })
        {
            IsBackground = true,
            Name = "tap-open",
        };
        t.Start();
        t.Join();
        return error is not null ? throw new LinuxException(error.Message, error) : fd!;
    }

    public static void SetVnetHeaderSize(SafeFd fd, int size) =>
        Syscalls.Ioctl(fd.Fd, TUNSETVNETHDRSZ, &size).ThrowIfFailed($"TUNSETVNETHDRSZ {size}");

    public static void SetOffload(SafeFd fd, uint offloads) =>
        Syscalls.Ioctl(fd.Fd, TUNSETOFFLOAD, (void*)offloads).ThrowIfFailed($"TUNSETOFFLOAD 0x{offloads:x}");

    public static void SetPersist(SafeFd fd, bool persist) =>
        Syscalls.Ioctl(fd.Fd, TUNSETPERSIST, (void*)(nuint)(persist ? 1u : 0u)).ThrowIfFailed("TUNSETPERSIST");

    /// <summary>Detaches (or re-attaches) the fd's queue: a detached fd keeps the device alive but receives nothing.</summary>
    public static void SetQueueAttached(SafeFd fd, bool attached)
    {
        IfReq req = default;
        req.Flags = attached ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
        Syscalls.Ioctl(fd.Fd, TUNSETQUEUE, &req).ThrowIfFailed(attached ? "TUNSETQUEUE attach" : "TUNSETQUEUE detach");
    }
}
