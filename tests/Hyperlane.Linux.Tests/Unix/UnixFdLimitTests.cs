using Hyperlane.Linux.Unix;

namespace Hyperlane.Linux.Tests.Unix;

/// <summary>
/// A peer that sends more descriptors than the receiver allows: the receive reports it, and every
/// descriptor of that message is closed (the process's descriptor count is unchanged).
/// </summary>
public class UnixFdLimitTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Fact]
    public void Descriptors_beyond_maxFds_that_fit_the_control_buffer_are_closed_and_reported()
    {
        // maxFds = 1 gives CMSG_SPACE(4) = 24 bytes, room for two: the kernel installs both, no MSG_CTRUNC.
        AssertRejectedWithoutLeak(sent: 2, maxFds: 1, expectTruncated: false);
    }

    [Fact]
    public void Truncated_control_data_closes_every_received_descriptor_and_is_reported()
    {
        // maxFds = 3 gives room for four of the ten: the kernel installs four and sets MSG_CTRUNC.
        AssertRejectedWithoutLeak(sent: 10, maxFds: 3, expectTruncated: true);
    }

    [Fact]
    public void Descriptors_sent_where_none_are_allowed_are_reported_and_none_stay_open()
    {
        AssertRejectedWithoutLeak(sent: 5, maxFds: 0, expectTruncated: true);
    }

    [Fact]
    public void The_largest_message_of_253_descriptors_is_received_whole()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            using var memfd = TestMemFds.Create(4096);
            int[] fds = Enumerable.Repeat(memfd.Fd, UnixStreamSocket.MaxFileDescriptors).ToArray();
            int before = OpenDescriptors.Count();
            a.Send([42], fds, Timeout);
            var received = new List<SafeFd>();
            Assert.Equal(1, b.Receive(new byte[4], received, UnixStreamSocket.MaxFileDescriptors, Timeout));
            Assert.Equal(253, received.Count);
            TestMemFds.DisposeAll(received);
            OpenDescriptors.AssertUnchanged(before);
        }
    }

    [Fact]
    public void ReceiveExact_rejects_descriptors_sent_with_the_payload_and_closes_them()
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            List<SafeFd> memfds = TestMemFds.Create(2, 4096);
            try
            {
                int before = OpenDescriptors.Count();
                a.Send([1, 2, 3, 4], (ReadOnlySpan<SafeFd>)[.. memfds], Timeout);
                var e = Assert.Throws<UnixSocketProtocolException>(() => b.ReceiveExact(new byte[4], Timeout, "the payload"));
                Assert.Contains("where none were expected", e.Message, StringComparison.Ordinal);
                Assert.Contains("the payload", e.Message, StringComparison.Ordinal);
                OpenDescriptors.AssertUnchanged(before);
            }
            finally
            {
                TestMemFds.DisposeAll(memfds);
            }
        }
    }

    private static void AssertRejectedWithoutLeak(int sent, int maxFds, bool expectTruncated)
    {
        var (a, b) = UnixStreamSocket.CreatePair();
        using (a)
        using (b)
        {
            List<SafeFd> memfds = TestMemFds.Create(sent, 4096);
            try
            {
                var received = new List<SafeFd>();
                int before = OpenDescriptors.Count();
                a.Send([7, 7, 7, 7], (ReadOnlySpan<SafeFd>)[.. memfds], Timeout);
                var e = Assert.Throws<UnixSocketProtocolException>(() => b.Receive(new byte[4], received, maxFds, Timeout, "VHOST_USER_SET_MEM_TABLE"));
                Assert.IsAssignableFrom<LinuxException>(e);
                Assert.Empty(received);
                Assert.Contains("VHOST_USER_SET_MEM_TABLE", e.Message, StringComparison.Ordinal);
                if (maxFds > 0)
                {
                    Assert.Contains($"more than {maxFds} file descriptors", e.Message, StringComparison.Ordinal);
                    Assert.Equal(expectTruncated, e.Message.Contains("truncated", StringComparison.Ordinal));
                }

                OpenDescriptors.AssertUnchanged(before);
            }
            finally
            {
                TestMemFds.DisposeAll(memfds);
            }
        }
    }
}
