using Hyperlane.Memory;

namespace Hyperlane.Vhost.Queues;

/// <summary>
/// Where a packet being enqueued (host → guest) has got to: first the virtio-net header, then the bytes of each
/// mbuf segment in turn. <see cref="Fill"/> copies the next bytes into a guest buffer.
/// </summary>
internal struct SplitRxCursor
{
    private Mbuf _segment;
    private int _segmentOffset;
    private int _segments;

    /// <summary>A cursor at the start of <paramref name="packet"/>'s header.</summary>
    public SplitRxCursor(Mbuf packet)
    {
        _segment = packet;
        _segmentOffset = 0;
        _segments = 0;
        HeaderDone = 0;
    }

    /// <summary>Header bytes already copied.</summary>
    public int HeaderDone { get; private set; }

    /// <summary>Whether a <see cref="Fill"/> wrote packet data with streaming stores (a store fence must follow).</summary>
    public bool Streamed { get; private set; }

    /// <summary>
    /// Copies the next bytes (the rest of <paramref name="header"/>, then packet data) into
    /// <paramref name="destination"/>; returns how many, less than its length only when the packet ran out. With
    /// <paramref name="stream"/> the data goes in with <see cref="PacketCopy.CopyStreaming"/>.
    /// </summary>
    public int Fill(Span<byte> destination, ReadOnlySpan<byte> header, bool stream)
    {
        int done = 0;
        if (HeaderDone < header.Length)
        {
            int n = Math.Min(header.Length - HeaderDone, destination.Length);
            PacketCopy.Copy(header.Slice(HeaderDone, n), destination);
            HeaderDone += n;
            done = n;
        }

        while (done < destination.Length && !_segment.IsNull)
        {
            Span<byte> data = _segment.Data;
            if (_segmentOffset >= data.Length)
            {
                // Our own mbufs, but never follow a chain further than a packet may have segments.
                _segment = ++_segments < Mbuf.MaxSegments ? _segment.Next : default;
                _segmentOffset = 0;
                continue;
            }

            int n = Math.Min(data.Length - _segmentOffset, destination.Length - done);
            if (!stream)
            {
                PacketCopy.Copy(data.Slice(_segmentOffset, n), destination[done..]);
            }
            else if (PacketCopy.CopyStreaming(data.Slice(_segmentOffset, n), destination[done..]))
            {
                Streamed = true;
            }

            _segmentOffset += n;
            done += n;
        }

        return done;
    }
}
