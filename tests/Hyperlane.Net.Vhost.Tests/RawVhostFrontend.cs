using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Hyperlane.Linux;
using Hyperlane.Linux.Unix;
using Hyperlane.Packets;
using Hyperlane.Testing;
using Hyperlane.Vhost.Protocol;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Net.Vhost.Tests;

/// <summary>
/// A minimal vhost-user frontend written message by message, for what neither Hyperlane's virtio_user nor DPDK's
/// sends: VHOST_USER_SEND_RARP (QEMU sends it after a live migration). It shares 1 MiB of memfd "guest RAM", sets up
/// split vrings 0 (receiveq) and 1 (transmitq) of 16 descriptors there, and can post frames on the transmitq.
/// Requests carry NEED_REPLY, so when a call returns the backend has handled it (and acknowledged success).
/// </summary>
internal sealed class RawVhostFrontend : IDisposable
{
    public const ulong Features = (1UL << VirtioFeatures.Version1) | (1UL << VirtioFeatures.VhostUserProtocolFeatures);

    private const ulong UserBase = 0x7F00_0000_0000;
    private const ulong MemorySize = 1 << 20;
    private const int RingSize = 16;
    private const int NetHeaderSize = 12;
    private const ulong BufferBase = 0x10000;
    private const ulong BufferSize = 0x4000;

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private static int counter;

    private readonly byte[] buffer = new byte[VhostUserMessageEncoder.MaxMessageSize + 4096];
    private readonly SafeFd memory;
    private readonly SharedMapping mapping;
    private ushort txAvail;

    private RawVhostFrontend(UnixStreamSocket socket)
    {
        Socket = socket;
        SysResult r = MemFd.TryCreate($"hl-nv-raw-{Environment.ProcessId}-{Interlocked.Increment(ref counter)}", MemFd.MFD_CLOEXEC, (long)MemorySize, out SafeFd? fd);
        Assert.True(r.IsSuccess, $"memfd_create: {r.Error}");
        memory = fd!;
        mapping = SharedMapping.Map(memory, 0, (long)MemorySize);
    }

    public UnixStreamSocket Socket { get; }

    public static RawVhostFrontend Connect(string path) => new(UnixStreamSocket.Connect(path, Timeout));

    /// <summary>SET_OWNER, feature and protocol-feature negotiation (VERSION_1 and PROTOCOL_FEATURES; <paramref name="protocol"/>).</summary>
    public void Negotiate(VhostUserProtocolFeatures protocol)
    {
        Request(VhostUserRequest.SetOwner);
        ulong offered = GetU64(VhostUserRequest.GetFeatures);
        Assert.Equal(Features, offered & Features);
        ulong offeredProtocol = GetU64(VhostUserRequest.GetProtocolFeatures);
        Assert.Equal((ulong)protocol, offeredProtocol & (ulong)protocol);
        SetU64(VhostUserRequest.SetProtocolFeatures, (ulong)protocol);
        SetU64(VhostUserRequest.SetFeatures, Features);
    }

    /// <summary>Shares the guest RAM and sets up and enables vrings 0 and 1: the device becomes ready.</summary>
    public void SetUpRings()
    {
        int n = VhostUserMessageEncoder.EncodeSetMemTable(buffer, [new VhostMemoryRegion(0, MemorySize, UserBase, 0)], needReply: true);
        Socket.Send(buffer.AsSpan(0, n), new[] { memory }.AsSpan(), Timeout, "SET_MEM_TABLE");
        AssertAck(VhostUserRequest.SetMemTable);
        for (uint ring = 0; ring < 2; ring++)
        {
            SetVringFile(VhostUserRequest.SetVringCall, ring);
            SetState(VhostUserRequest.SetVringNum, ring, RingSize);
            SetState(VhostUserRequest.SetVringBase, ring, 0);
            n = VhostUserMessageEncoder.EncodeSetVringAddr(buffer, new VhostVringAddr(ring, 0, UserBase + Desc(ring), UserBase + Used(ring), UserBase + Avail(ring), 0), needReply: true);
            Socket.Send(buffer.AsSpan(0, n), Timeout, "SET_VRING_ADDR");
            AssertAck(VhostUserRequest.SetVringAddr);
            SetVringFile(VhostUserRequest.SetVringKick, ring);
            SetState(VhostUserRequest.SetVringEnable, ring, 1);
        }
    }

    /// <summary>Posts <paramref name="frame"/> (behind a zero virtio-net header) on the transmitq, vring 1.</summary>
    public void Transmit(ReadOnlySpan<byte> frame)
    {
        ushort d = (ushort)(txAvail % RingSize);
        ulong gpa = BufferBase + (BufferSize * d);
        Span<byte> data = mapping.AsSpan((nuint)gpa, NetHeaderSize + frame.Length);
        data[..NetHeaderSize].Clear();
        frame.CopyTo(data[NetHeaderSize..]);
        Span<byte> desc = mapping.AsSpan((nuint)(Desc(1) + (16UL * d)), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(desc, gpa);
        BinaryPrimitives.WriteUInt32LittleEndian(desc[8..], (uint)data.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(desc[12..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(desc[14..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(mapping.AsSpan((nuint)(Avail(1) + 4 + (2UL * d)), 2), d);
        txAvail++;
        Thread.MemoryBarrier();
        BinaryPrimitives.WriteUInt16LittleEndian(mapping.AsSpan((nuint)(Avail(1) + 2), 2), txAvail);
    }

    /// <summary>The transmitq's used index: how many frames the backend has taken.</summary>
    public ushort TxUsed => BinaryPrimitives.ReadUInt16LittleEndian(mapping.AsSpan((nuint)(Used(1) + 2), 2));

    /// <summary>VHOST_USER_SEND_RARP with <paramref name="mac"/> in the first 6 bytes of the u64, NEED_REPLY set; returns the acknowledgement (0 = success).</summary>
    public ulong SendRarp(MacAddress mac)
    {
        Span<byte> bytes = stackalloc byte[8];
        bytes.Clear();
        mac.CopyTo(bytes);
        int n = VhostUserMessageEncoder.EncodeRequest(buffer, VhostUserRequest.SendRarp, MemoryMarshal.Read<ulong>(bytes), needReply: true);
        Socket.Send(buffer.AsSpan(0, n), Timeout, "SEND_RARP");
        return ReadReply(VhostUserRequest.SendRarp).U64;
    }

    /// <summary>Waits for the backend to close the connection: true at end of stream (or a reset).</summary>
    public bool WaitForClose()
    {
        var deadline = DateTime.UtcNow + VhostLab.Timeout;
        var fds = new List<SafeFd>();
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (Socket.Receive(buffer, fds, 8, deadline - DateTime.UtcNow, "the backend closing") == 0)
                {
                    return true;
                }
            }
            catch (TimeoutException)
            {
                return false;
            }
            catch (LinuxException)
            {
                return true;
            }
            finally
            {
                fds.ForEach(f => f.Dispose());
                fds.Clear();
            }
        }

        return false;
    }

    public void Dispose()
    {
        Socket.Dispose();
        mapping.Dispose();
        memory.Dispose();
    }

    private static ulong Desc(uint ring) => 0x1000 + (0x3000UL * ring);

    private static ulong Avail(uint ring) => 0x2000 + (0x3000UL * ring);

    private static ulong Used(uint ring) => 0x3000 + (0x3000UL * ring);

    private void Request(VhostUserRequest request)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(buffer, request, needReply: true);
        Socket.Send(buffer.AsSpan(0, n), Timeout, request.ToString());
        AssertAck(request);
    }

    private ulong GetU64(VhostUserRequest request)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(buffer, request);
        Socket.Send(buffer.AsSpan(0, n), Timeout, request.ToString());
        return ReadReply(request).U64;
    }

    private void SetU64(VhostUserRequest request, ulong value)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(buffer, request, value, needReply: true);
        Socket.Send(buffer.AsSpan(0, n), Timeout, request.ToString());
        AssertAck(request);
    }

    private void SetState(VhostUserRequest request, uint index, uint num)
    {
        int n = VhostUserMessageEncoder.EncodeRequest(buffer, request, new VhostVringState(index, num), needReply: true);
        Socket.Send(buffer.AsSpan(0, n), Timeout, request.ToString());
        AssertAck(request);
    }

    /// <summary>A vring-file request without an fd (VHOST_USER_VRING_NOFD_MASK): poll mode.</summary>
    private void SetVringFile(VhostUserRequest request, uint index)
    {
        int n = VhostUserMessageEncoder.EncodeVringFile(buffer, request, index, hasFd: false, needReply: true);
        Socket.Send(buffer.AsSpan(0, n), Timeout, request.ToString());
        AssertAck(request);
    }

    private void AssertAck(VhostUserRequest request) => Assert.True(ReadReply(request).U64 == 0, $"{request} was not acknowledged with success");

    private VhostUserMessage ReadReply(VhostUserRequest expected) => VhostReplies.Read(Socket, buffer, Timeout, expected);
}
