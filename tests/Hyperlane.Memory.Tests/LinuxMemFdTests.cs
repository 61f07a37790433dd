using Hyperlane.Linux;

namespace Hyperlane.Memory.Tests;

/// <summary><see cref="MemFd"/> and <see cref="Mman"/>: a shareable file mapped twice shows the same bytes.</summary>
public unsafe class LinuxMemFdTests
{
    [Fact]
    public void Memfd_mapped_twice_shares_its_bytes()
    {
        const int Size = 64 * 1024;
        SysResult created = MemFd.TryCreate("hyperlane-test-memfd", MemFd.MFD_CLOEXEC, Size, out SafeFd? fd);
        Assert.True(created.IsSuccess, created.ToString());
        Assert.NotNull(fd);
        using (fd)
        {
            Assert.Equal(fd!.Fd, created.Value);
            Assert.False(fd.IsInvalid);
            Assert.Contains("memfd:hyperlane-test-memfd", File.ResolveLinkTarget($"/proc/self/fd/{fd.Fd}", false)!.FullName, StringComparison.Ordinal);

            SysResult a = Mman.Map(0, Size, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fd, 0);
            SysResult b = Mman.Map(0, Size, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_POPULATE, fd, 0);
            Assert.True(a.IsSuccess, a.ToString());
            Assert.True(b.IsSuccess, b.ToString());
            Assert.NotEqual(a.Value, b.Value);
            try
            {
                Assert.Equal(0, a.Value % Mman.PageSize);
                var writer = new Span<byte>((void*)a.Value, Size);
                var reader = new ReadOnlySpan<byte>((void*)b.Value, Size);
                Assert.True(reader.IndexOfAnyExcept((byte)0) < 0, "a new memfd reads as zeros");

                for (int i = 0; i < Size; i += 997)
                {
                    writer[i] = (byte)(i * 31);
                }

                for (int i = 0; i < Size; i += 997)
                {
                    Assert.Equal((byte)(i * 31), reader[i]);
                }

                // The second mapping at an offset sees the file from there.
                SysResult c = Mman.Map(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, fd, 8192);
                Assert.True(c.IsSuccess, c.ToString());
                Assert.Equal(writer[8192 + 100], ((byte*)c.Value)[100]);
                Assert.True(Mman.Unmap((nint)c.Value, 4096).IsSuccess);

                Assert.True(Mman.Advise((nint)a.Value, Size, Mman.MADV_DONTFORK).IsSuccess);
            }
            finally
            {
                Assert.True(Mman.Unmap((nint)a.Value, Size).IsSuccess);
                Assert.True(Mman.Unmap((nint)b.Value, Size).IsSuccess);
            }
        }

        Assert.True(fd.IsClosed);
    }

    [Fact]
    public void Anonymous_private_mapping_round_trip()
    {
        SysResult m = Mman.Map(0, 8192, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        Assert.True(m.IsSuccess, m.ToString());
        var span = new Span<byte>((void*)m.Value, 8192);
        span.Fill(0x42);
        Assert.Equal(0x42, span[8191]);
        Assert.True(Mman.Lock((nint)m.Value, 8192).IsSuccess || !ProcessInfo.IsRoot);
        Assert.True(Mman.Unmap((nint)m.Value, 8192).IsSuccess);
    }

    [Fact]
    public void Failures_return_the_errno()
    {
        SysResult bad = MemFd.TryCreate("hyperlane-test-bad", MemFd.MFD_CLOEXEC, -1, out SafeFd? none);
        Assert.False(bad.IsSuccess);
        Assert.Equal(Errno.EINVAL, bad.Error);
        Assert.Null(none);

        SysResult badFlags = MemFd.TryCreate("hyperlane-test-flags", 0x8000_0000, 4096, out SafeFd? none2);
        Assert.Equal(Errno.EINVAL, badFlags.Error);
        Assert.Null(none2);

        SysResult zero = Mman.Map(0, 0, Mman.PROT_READ, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS, null, 0);
        Assert.False(zero.IsSuccess);
        Assert.Equal(Errno.EINVAL, zero.Error);
        Assert.Equal(-1, zero.Value);

        Assert.Equal(Errno.EINVAL, Mman.Unmap(1, 4096).Error); // not page aligned
    }

    [Fact]
    public void Page_size_matches_the_runtime()
    {
        Assert.Equal(Environment.SystemPageSize, Mman.PageSize);
    }
}
