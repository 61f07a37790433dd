using System.Buffers.Binary;
using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// Memfds sent with SCM_RIGHTS, mapped on both sides with <see cref="SharedMapping"/> at unaligned offsets:
/// what one side writes, the other reads.
/// </summary>
public sealed class UnixFdPassingTests : IDisposable
{
    private const int FileSize = 3 * 4096 + 123;
    private const int RegionLength = 1000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    private readonly UnixTestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(32)]
    public void Memfds_sent_over_a_socketpair_share_memory_at_unaligned_offsets(int count)
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            ExchangeThroughSharedMemory(a, b, count);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(32)]
    public void Memfds_sent_over_a_listen_connect_pair_share_memory_at_unaligned_offsets(int count)
    {
        string path = _dir.File("vhost.sock");
        using var listener = UnixStreamSocket.Listen(path);
        using var client = UnixStreamSocket.Connect(path, Timeout);
        using UnixStreamSocket? server = listener.Accept(Timeout);
        Assert.NotNull(server);
        ExchangeThroughSharedMemory(client, server, count);
        ExchangeThroughSharedMemory(server, client, count);
    }

    [Fact]
    public void Received_descriptors_are_new_close_on_exec_descriptors_of_the_same_files()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            using SafeFd memfd = TestMemFds.Create(4096);
            a.Send([1], [memfd.Fd], Timeout);
            var received = new List<SafeFd>();
            Assert.Equal(1, b.Receive(new byte[16], received, 1, Timeout));
            using SafeFd copy = Assert.Single(received);
            Assert.NotEqual(memfd.Fd, copy.Fd);
            Assert.Equal(1, LibC.fcntl(copy.Fd, 1 /* F_GETFD */, 0) & 1 /* FD_CLOEXEC */);
            Assert.True(Statx.ForDescriptor(memfd.Fd, out Statx original).IsSuccess);
            Assert.True(Statx.ForDescriptor(copy.Fd, out Statx other).IsSuccess);
            Assert.True(original.IsSameFile(other));
        }
    }

    [Fact]
    public void Descriptors_ride_with_the_first_chunk_of_a_message_larger_than_the_socket_buffer()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            List<SafeFd> memfds = TestMemFds.Create(3, 4096);
            try
            {
                byte[] big = new byte[1 << 20];
                Random.Shared.NextBytes(big);
                var sender = new Thread(() => a.Send(big, (ReadOnlySpan<SafeFd>)[.. memfds], Timeout, "a 1 MiB message"));
                sender.Start();

                var received = new List<SafeFd>();
                byte[] got = new byte[big.Length];
                int first = b.Receive(got, received, 3, Timeout);
                Assert.InRange(first, 1, big.Length);
                Assert.Equal(3, received.Count);
                b.ReceiveExact(got.AsSpan(first), Timeout);
                Assert.True(sender.Join(Timeout));
                Assert.Equal(big, got);
                TestMemFds.DisposeAll(received);
            }
            finally
            {
                TestMemFds.DisposeAll(memfds);
            }
        }
    }

    [Fact]
    public void Send_refuses_more_than_SCM_MAX_FD_descriptors_and_descriptors_without_data()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            int[] many = new int[254];
            var e = Assert.Throws<ArgumentException>(() => a.Send([1], many, Timeout));
            Assert.Contains("at most 253", e.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => a.Send([], [0], Timeout));
            Assert.Throws<ArgumentException>(() => a.Send([1], [-1], Timeout));
        }
    }

    /// <summary>
    /// The sender creates <paramref name="count"/> memfds, fills a region at an unaligned offset of each,
    /// sends them; the receiver maps the same regions, checks the bytes, answers in the memory, and the
    /// sender reads the answers.
    /// </summary>
    private static void ExchangeThroughSharedMemory(UnixStreamSocket sender, UnixStreamSocket receiver, int count)
    {
        List<SafeFd> memfds = TestMemFds.Create(count, FileSize);
        var received = new List<SafeFd>();
        var senderMaps = new List<SharedMapping>();
        var receiverMaps = new List<SharedMapping>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                SharedMapping m = SharedMapping.Map(memfds[i], OffsetOf(i), RegionLength);
                senderMaps.Add(m);
                Assert.NotEqual(0, m.Pointer % Mman.PageSize);
                Span<byte> s = m.AsSpan(0, RegionLength);
                for (int j = 0; j < s.Length; j++)
                {
                    s[j] = (byte)(i * 7 + j);
                }
            }

            byte[] header = new byte[8];
            BinaryPrimitives.WriteInt32LittleEndian(header, count);
            BinaryPrimitives.WriteInt32LittleEndian(header.AsSpan(4), 0x5a5a5a5a);
            sender.Send(header, (ReadOnlySpan<SafeFd>)[.. memfds], Timeout, "the memory table");

            byte[] got = new byte[header.Length];
            int n = receiver.Receive(got, received, count, Timeout, "the memory table");
            if (n < got.Length)
            {
                receiver.ReceiveExact(got.AsSpan(n), Timeout);
            }

            Assert.Equal(header, got);
            Assert.Equal(count, received.Count);
            for (int i = 0; i < count; i++)
            {
                SharedMapping m = SharedMapping.Map(received[i], OffsetOf(i), RegionLength);
                receiverMaps.Add(m);
                Span<byte> r = m.AsSpan(0, RegionLength);
                for (int j = 0; j < r.Length; j++)
                {
                    Assert.Equal((byte)(i * 7 + j), r[j]);
                }

                r.Fill((byte)(0x80 + i));
            }

            for (int i = 0; i < count; i++)
            {
                Assert.True(senderMaps[i].AsSpan(0, RegionLength).IndexOfAnyExcept((byte)(0x80 + i)) < 0, $"region {i} shows the receiver's writes");
            }
        }
        finally
        {
            senderMaps.ForEach(m => m.Dispose());
            receiverMaps.ForEach(m => m.Dispose());
            TestMemFds.DisposeAll(memfds);
            TestMemFds.DisposeAll(received);
        }
    }

    /// <summary>Non-zero, not page-aligned, different per region, region inside the file.</summary>
    private static long OffsetOf(int i) => 4096 + 17 + (i * 61);
}
