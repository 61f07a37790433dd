using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// Kernel structs of the Unix/epoll/mmap primitives against their headers: struct epoll_event
/// (uapi linux/eventpoll.h, packed on x86-64 only), struct statx (uapi linux/stat.h), struct msghdr and
/// struct cmsghdr (sys/socket.h, 64-bit glibc), and the CMSG_* sizes.
/// </summary>
public class UnixLayoutTests
{
    [Fact]
    public void EpollEvent_is_the_packed_x86_64_epoll_event()
    {
        Assert.Equal(12, Unsafe.SizeOf<EpollEvent>());
        Assert.Equal(12, Marshal.SizeOf<EpollEvent>());
        Assert.Equal(0, (int)Marshal.OffsetOf<EpollEvent>(nameof(EpollEvent.Events)));
        Assert.Equal(4, (int)Marshal.OffsetOf<EpollEvent>(nameof(EpollEvent.Data)));
    }

    [Fact]
    public void EpollEventAligned_is_the_arm64_epoll_event()
    {
        Assert.Equal(16, Unsafe.SizeOf<EpollEventAligned>());
        Assert.Equal(0, (int)Marshal.OffsetOf<EpollEventAligned>(nameof(EpollEventAligned.Events)));
        Assert.Equal(8, (int)Marshal.OffsetOf<EpollEventAligned>(nameof(EpollEventAligned.Data)));
    }

    [Fact]
    public void Epoll_uses_the_layout_of_this_architecture()
    {
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.X64:
                Assert.True(Epoll.KernelLayoutIsPacked);
                Assert.Equal(12, Epoll.KernelEventSize);
                break;
            case Architecture.Arm64:
                Assert.False(Epoll.KernelLayoutIsPacked);
                Assert.Equal(16, Epoll.KernelEventSize);
                break;
        }
    }

    [Fact]
    public void Statx_matches_linux_stat_h()
    {
        Assert.Equal(0x100, Unsafe.SizeOf<Statx>());
        Assert.Equal(0x00, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Mask)));        // stx_mask
        Assert.Equal(0x04, (int)Marshal.OffsetOf<Statx>(nameof(Statx.BlockSize)));   // stx_blksize
        Assert.Equal(0x1C, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Mode)));        // stx_mode
        Assert.Equal(0x20, (int)Marshal.OffsetOf<Statx>(nameof(Statx.Inode)));       // stx_ino
        Assert.Equal(0x28, (int)Marshal.OffsetOf<Statx>(nameof(Statx.FileSize)));    // stx_size
        Assert.Equal(0x88, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DeviceMajor))); // stx_dev_major
        Assert.Equal(0x8C, (int)Marshal.OffsetOf<Statx>(nameof(Statx.DeviceMinor))); // stx_dev_minor
    }

    [Fact]
    public void Statx_of_a_memfd_reports_a_regular_file_of_its_size()
    {
        using SafeFd memfd = TestMemFds.Create(12345);
        Assert.True(Statx.ForDescriptor(memfd.Fd, out Statx s).IsSuccess);
        Assert.True(s.IsRegularFile);
        Assert.False(s.IsSocket);
        Assert.Equal(12345UL, s.FileSize);
        Assert.NotEqual(0UL, s.Inode);
    }

    [Fact]
    public void MsgHdr_and_CmsgHdr_match_64_bit_glibc()
    {
        Assert.Equal(56, Unsafe.SizeOf<MsgHdr>());
        Assert.Equal(0, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Name)));            // msg_name
        Assert.Equal(8, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.NameLength)));      // msg_namelen
        Assert.Equal(16, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Iov)));            // msg_iov
        Assert.Equal(24, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.IovLength)));      // msg_iovlen
        Assert.Equal(32, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Control)));        // msg_control
        Assert.Equal(40, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.ControlLength)));  // msg_controllen
        Assert.Equal(48, (int)Marshal.OffsetOf<MsgHdr>(nameof(MsgHdr.Flags)));          // msg_flags

        Assert.Equal(16, Unsafe.SizeOf<CmsgHdr>());
        Assert.Equal(8, (int)Marshal.OffsetOf<CmsgHdr>(nameof(CmsgHdr.Level)));         // cmsg_level
        Assert.Equal(12, (int)Marshal.OffsetOf<CmsgHdr>(nameof(CmsgHdr.Type)));         // cmsg_type
    }

    [Fact]
    public void Control_message_sizes_match_the_CMSG_macros()
    {
        Assert.Equal(16, ControlMessages.HeaderSize);       // CMSG_LEN(0)
        Assert.Equal(20, ControlMessages.Length(4));         // CMSG_LEN(sizeof(int))
        Assert.Equal(24, ControlMessages.Space(4));          // CMSG_SPACE(sizeof(int))
        Assert.Equal(24, ControlMessages.Space(8));          // CMSG_SPACE(2 * sizeof(int))
        Assert.Equal(32, ControlMessages.Space(12));         // CMSG_SPACE(3 * sizeof(int))
        Assert.Equal(16 + 1016, ControlMessages.MaxSpace);   // CMSG_SPACE(253 * sizeof(int))
    }
}
