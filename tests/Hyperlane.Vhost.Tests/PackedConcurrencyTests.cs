using System.Buffers.Binary;
using Hyperlane.Memory;

namespace Hyperlane.Vhost.Tests;

/// <summary>
/// Guest and backend on two threads, as in production: the driver thread makes chains available and takes used
/// descriptors back while the backend thread dequeues or enqueues. Every packet arrives once, in order, intact
/// (the flags' acquire/release ordering and the wrap counters at work).
/// </summary>
[Collection(PackedSerialCollection.Name)]
public sealed class PackedConcurrencyTests
{
    private const int Count = 100_000;

    [Fact]
    public void Transmit_with_a_live_guest()
    {
        using var b = PackedTestBench.Create(size: 250, poolSize: 512);
        ulong area = b.Guest.Scratch(250 * 2048L, 64);
        Exception? failure = null;
        bool stop = false;
        var driver = new Thread(() =>
        {
            try
            {
                var frame = new byte[12 + 200];
                for (int seq = 0; seq < Count && !Volatile.Read(ref stop); seq++)
                {
                    while (b.Driver.FreeDescriptors < 2 && !Volatile.Read(ref stop))
                    {
                        b.Driver.TakeAllUsed();
                    }

                    ulong slot = area + ((ulong)b.Driver.NextAvail * 2048);
                    BinaryPrimitives.WriteInt32LittleEndian(frame.AsSpan(12), seq);
                    frame.AsSpan(16).Fill((byte)seq);
                    b.Guest.Write(slot, frame);
                    if (seq % 2 == 0)
                    {
                        b.Driver.Post(new PackedTestElement(slot, (uint)frame.Length, false));
                    }
                    else
                    {
                        b.Guest.Write(slot + 1024, frame.AsSpan(12));
                        b.Driver.Post(new PackedTestElement(slot, 12, false), new PackedTestElement(slot + 1024, 200, false));
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        });
        driver.Start();

        var packets = new Mbuf[32];
        int expected = 0;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (expected < Count && failure is null && DateTime.UtcNow < deadline)
            {
                int n = b.Queue.Dequeue(b.Pool, packets);
                for (int i = 0; i < n; i++)
                {
                    byte[] data = PackedTestBench.Contents(packets[i]);
                    Assert.Equal(200, data.Length);
                    Assert.Equal(expected, BinaryPrimitives.ReadInt32LittleEndian(data));
                    Assert.False(data.AsSpan(4).ContainsAnyExcept((byte)expected), $"packet {expected} corrupted");
                    expected++;
                }

                Mbuf.FreeBulk(packets.AsSpan(0, n));
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            Assert.True(driver.Join(TimeSpan.FromSeconds(30)), "the driver thread did not finish");
        }

        Assert.Null(failure);
        Assert.Equal(Count, expected);
        Assert.Equal(0, b.Stats.Faults);
        b.AssertNoLeaks();
    }

    [Fact]
    public void Receive_with_a_live_guest()
    {
        using var b = PackedTestBench.Create(size: 256, features: PackedTestBench.Modern | PackedTestBench.MrgRxbuf, poolSize: 4096);
        ulong area = b.Guest.Scratch(256 * 1024L, 64);
        var mbufs = new Mbuf[2000];
        for (int i = 0; i < mbufs.Length; i++)
        {
            mbufs[i] = b.MakePacket(new byte[100 + i]);
        }

        Exception? failure = null;
        int received = 0;
        bool stop = false;
        var driver = new Thread(() =>
        {
            try
            {
                var pending = new List<byte>();
                int buffersLeft = 0;
                while (Volatile.Read(ref received) < Count && !Volatile.Read(ref stop))
                {
                    while (b.Driver.FreeDescriptors > 0)
                    {
                        ulong slot = area + ((ulong)b.Driver.NextAvail * 1024);
                        b.Driver.Post(new PackedTestElement(slot, 1024, true));
                    }

                    while (b.Driver.TryTakeUsed(out var used))
                    {
                        byte[] bytes = b.Written(used);
                        if (buffersLeft == 0)
                        {
                            buffersLeft = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(10));
                            bytes = bytes[12..];
                        }

                        pending.AddRange(bytes);
                        if (--buffersLeft == 0)
                        {
                            byte[] packet = [.. pending];
                            pending.Clear();
                            int seq = BinaryPrimitives.ReadInt32LittleEndian(packet);
                            if (seq != received || packet.Length != 100 + (seq % 2000) || packet.AsSpan(4).ContainsAnyExcept((byte)seq))
                            {
                                throw new InvalidOperationException($"packet {received}: got seq {seq}, {packet.Length} bytes");
                            }

                            Volatile.Write(ref received, received + 1);
                        }
                    }
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failure = e;
            }
        });
        driver.Start();

        int sent = 0;
        try
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (sent < Count && failure is null && DateTime.UtcNow < until)
            {
                Mbuf m = mbufs[sent % 2000];
                BinaryPrimitives.WriteInt32LittleEndian(m.Data, sent);
                m.Data[4..].Fill((byte)sent);
                Mbuf tail = m.Next;
                if (!tail.IsNull)
                {
                    tail.Data.Fill((byte)sent);
                }

                sent += b.Queue.Enqueue([m]);
            }

            while (Volatile.Read(ref received) < Count && failure is null && DateTime.UtcNow < until)
            {
                Thread.Yield();
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            Assert.True(driver.Join(TimeSpan.FromSeconds(30)), "the driver thread did not finish");
        }

        Assert.Null(failure);
        Assert.Equal(Count, received);
        Assert.Equal(Count, sent);
        Assert.Equal(0, b.Stats.Faults);
        Mbuf.FreeBulk(mbufs);
        b.AssertNoLeaks();
    }
}
