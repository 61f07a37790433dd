using System.Runtime.InteropServices;
using Hyperlane.Linux.Unix;
using Hyperlane.Vhost.Protocol;
using Xunit;

namespace Hyperlane.Testing;

/// <summary>What the raw vhost-user test frontends share: reading one reply from a backend.</summary>
public static class VhostReplies
{
    /// <summary>
    /// Reads one reply to <paramref name="expected"/> from <paramref name="socket"/> into <paramref name="buffer"/> and
    /// checks it (REPLY flag, same request, payload size and shape); fails the test otherwise.
    /// </summary>
    public static VhostUserMessage Read(UnixStreamSocket socket, byte[] buffer, TimeSpan timeout, VhostUserRequest expected)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> header = buffer.AsSpan(0, VhostUserHeader.Size);
        socket.ReceiveExact(header, timeout, $"the reply to {expected}");
        uint size = MemoryMarshal.Read<VhostUserHeader>(header).PayloadSize;
        Assert.True(size <= VhostUserMessageDecoder.MaxPayloadSize, $"reply payload size {size}");
        Span<byte> payload = buffer.AsSpan(VhostUserHeader.Size, (int)size);
        if (size > 0)
        {
            socket.ReceiveExact(payload, timeout, $"the reply payload to {expected}");
        }

        Assert.True(VhostUserMessageDecoder.TryDecodeReply(header, payload, 0, expected, out VhostUserMessage? reply, out _, out string? error), error);
        return reply!;
    }
}
