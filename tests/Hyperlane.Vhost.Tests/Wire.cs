using System.Runtime.InteropServices;
using Hyperlane.Vhost.Protocol;

namespace Hyperlane.Vhost.Tests;

/// <summary>Builds raw vhost-user bytes by hand (independently of the encoder) and runs the decoder on them.</summary>
internal static class Wire
{
    public const uint V1 = VhostUserHeader.Version;

    public static byte[] Header(uint request, uint flags, uint size)
    {
        var bytes = new byte[12];
        MemoryMarshal.Write(bytes, request);
        MemoryMarshal.Write(bytes.AsSpan(4), flags);
        MemoryMarshal.Write(bytes.AsSpan(8), size);
        return bytes;
    }

    public static byte[] Bytes<T>(T value)
        where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)).ToArray();

    public static byte[] U64(ulong value) => Bytes(value);

    public static byte[] State(uint index, uint num) => Bytes(new VhostVringState(index, num));

    public static byte[] MemTable(params VhostMemoryRegion[] regions) => MemTable((uint)regions.Length, regions);

    public static byte[] MemTable(uint nregions, params VhostMemoryRegion[] regions)
    {
        var bytes = new byte[8 + (32 * regions.Length)];
        MemoryMarshal.Write(bytes, nregions);
        MemoryMarshal.Write(bytes.AsSpan(4), 0xDEADBEEFu); // padding is ignored
        MemoryMarshal.AsBytes(regions.AsSpan()).CopyTo(bytes.AsSpan(8));
        return bytes;
    }

    public static byte[] Single(VhostMemoryRegion region) => Bytes(new VhostUserSingleMemoryRegion(region));

    public static Result Decode(VhostUserRequest request, byte[] payload, int fds, uint flags = V1) =>
        Decode(Header((uint)request, flags, (uint)payload.Length), payload, fds);

    public static Result Decode(byte[] header, byte[] payload, int fds)
    {
        bool ok = VhostUserMessageDecoder.TryDecode(header, payload, fds, out var message, out var error, out var text);
        Assert.Equal(ok, message is not null);
        Assert.Equal(ok, text is null);
        Assert.Equal(ok, error == VhostUserDecodeError.None);
        return new Result(ok, message, error, text);
    }

    public static VhostUserMessage Accept(VhostUserRequest request, byte[] payload, int fds, uint flags = V1)
    {
        Result r = Decode(request, payload, fds, flags);
        Assert.True(r.Ok, r.Text);
        Assert.Equal(request, r.Message!.Request);
        Assert.Equal(fds, r.Message.FdCount);
        return r.Message;
    }

    public static string Reject(VhostUserDecodeError expected, VhostUserRequest request, byte[] payload, int fds, uint flags = V1)
    {
        Result r = Decode(request, payload, fds, flags);
        Assert.False(r.Ok);
        Assert.Equal(expected, r.Error);
        return r.Text!;
    }

    public static VhostMemoryRegion Region(ulong gpa, ulong size, ulong uaddr, ulong offset = 0) => new(gpa, size, uaddr, offset);

    internal readonly record struct Result(bool Ok, VhostUserMessage? Message, VhostUserDecodeError Error, string? Text);
}
