using System.Runtime.InteropServices;

namespace Hyperlane.Linux.Unix;

/// <summary>
/// struct statx (include/uapi/linux/stat.h): one layout on every architecture (unlike struct stat, which
/// differs between x86-64 and arm64), 0x100 bytes. Only the fields Hyperlane reads are named.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = Size)]
internal unsafe struct Statx
{
    public const int Size = 0x100;

    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int AT_EMPTY_PATH = 0x1000;

    public const uint STATX_TYPE = 0x1;
    public const uint STATX_MODE = 0x2;
    public const uint STATX_INO = 0x100;
    public const uint STATX_SIZE = 0x200;

    public const int S_IFMT = 0xF000;
    public const int S_IFSOCK = 0xC000;
    public const int S_IFREG = 0x8000;

    /// <summary>stx_mask: which fields the kernel filled in.</summary>
    [FieldOffset(0x00)]
    public uint Mask;

    /// <summary>stx_blksize: preferred I/O size (the huge page size on hugetlbfs).</summary>
    [FieldOffset(0x04)]
    public uint BlockSize;

    /// <summary>stx_mode: file type and permissions.</summary>
    [FieldOffset(0x1C)]
    public ushort Mode;

    /// <summary>stx_ino.</summary>
    [FieldOffset(0x20)]
    public ulong Inode;

    /// <summary>stx_size: file size in bytes.</summary>
    [FieldOffset(0x28)]
    public ulong FileSize;

    /// <summary>stx_dev_major: device holding the file.</summary>
    [FieldOffset(0x88)]
    public uint DeviceMajor;

    /// <summary>stx_dev_minor.</summary>
    [FieldOffset(0x8C)]
    public uint DeviceMinor;

    public readonly bool IsSocket => (Mode & S_IFMT) == S_IFSOCK;

    public readonly bool IsRegularFile => (Mode & S_IFMT) == S_IFREG;

    /// <summary>True when both describe the same file (device and inode).</summary>
    public readonly bool IsSameFile(in Statx other) =>
        Inode == other.Inode && DeviceMajor == other.DeviceMajor && DeviceMinor == other.DeviceMinor;

    /// <summary>Type, mode, inode and size of the file open at <paramref name="fd"/>.</summary>
    public static SysResult ForDescriptor(int fd, out Statx status)
    {
        Statx s = default;
        int r = LibC.statx(fd, string.Empty, AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE, &s);
        status = s;
        return SysResult.FromReturn(r);
    }

    /// <summary>Type, mode, inode and size of <paramref name="path"/> itself (a symlink is not followed).</summary>
    public static SysResult ForPath(string path, out Statx status)
    {
        Statx s = default;
        int r = LibC.statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE, &s);
        status = s;
        return SysResult.FromReturn(r);
    }
}
