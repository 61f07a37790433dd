using Hyperlane.Memory;

namespace Hyperlane.Vhost.Frontend;

/// <summary>Mbufs to free, gathered in a caller-provided (stack) span and returned to their pools in bulk.</summary>
internal ref struct MbufFreeBatch
{
    private readonly Span<Mbuf> _items;
    private int _count;

    public MbufFreeBatch(Span<Mbuf> items)
    {
        _items = items;
        _count = 0;
    }

    /// <summary>Adds a packet (all its segments are freed); flushes when the span is full.</summary>
    public void Add(Mbuf packet)
    {
        if (packet.IsNull)
        {
            return;
        }

        if (_count == _items.Length)
        {
            Flush();
        }

        _items[_count++] = packet;
    }

    /// <summary>Frees what was gathered.</summary>
    public void Flush()
    {
        if (_count > 0)
        {
            Mbuf.FreeBulk(_items[.._count]);
            _items[.._count].Clear();
            _count = 0;
        }
    }
}
