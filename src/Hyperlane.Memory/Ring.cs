using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Hyperlane.Memory;

/// <summary>
/// A lock-free bounded FIFO of unmanaged items in native memory: DPDK's <c>rte_ring</c>.
/// </summary>
/// <remarks>
/// <para>
/// Exactly <see cref="Capacity"/> items fit (DPDK's <c>RING_F_EXACT_SZ</c>): the slot array has the
/// next power of two at or above the capacity, and indices are free-running <see cref="uint"/>
/// counters masked into it. Each side (producer, consumer) has a head and a tail on its own cache
/// line. A side first moves its head to reserve <c>n</c> slots (a plain store for a single
/// producer/consumer, a compare-and-swap loop otherwise), copies the items, then publishes by moving
/// its tail; with several threads on a side, each waits for the earlier reservations to publish
/// first, so tails move in reservation order.
/// </para>
/// <para>
/// Enqueue and dequeue never allocate, lock or throw. After <see cref="Dispose"/> they return 0 /
/// <see langword="false"/>; disposing while another thread is inside an operation is a caller bug.
/// <see cref="Count"/>, <see cref="FreeCount"/>, <see cref="IsEmpty"/> and <see cref="IsFull"/> are
/// snapshots: exact when the ring is quiet, approximate (but within 0..<see cref="Capacity"/>) while
/// other threads use it.
/// </para>
/// </remarks>
/// <typeparam name="T">The item type, copied by value (an <c>Mbuf</c> handle, a pointer, a small struct).</typeparam>
[DebuggerDisplay("{Name,nq}: {Count}/{Capacity}")]
public sealed unsafe class Ring<T> : IDisposable where T : unmanaged
{
    /// <summary>The largest capacity accepted: 2^28 (slot arrays stay well inside the 2^32 index space).</summary>
    internal const int MaxCapacity = 1 << 28;

    private const int CacheLine = 64;

    // Control block layout (one native allocation, 64-byte aligned):
    //   [  0, 64)  producer head/tail     [ 64,128)  guard (keeps the adjacent-line prefetcher off)
    //   [128,192)  consumer head/tail     [192,256)  guard
    //   [256, ..)  slot array (size * sizeof(T))
    private const int ProdOffset = 0;
    private const int ConsOffset = 2 * CacheLine;
    private const int SlotsOffset = 4 * CacheLine;

    // Spins (Thread.SpinWait(1)) before a waiter starts yielding its CPU to the thread it waits for.
    private const int SpinsBeforeYield = 64;

    private readonly uint _size;
    private readonly uint _mask;
    private readonly uint _capacity;
    private readonly bool _singleProducer;
    private readonly bool _singleConsumer;

    private RingHeadTail* _prod;
    private RingHeadTail* _cons;
    private T* _slots;
    private nint _block;

    /// <summary>Creates a ring that holds exactly <paramref name="capacity"/> items.</summary>
    /// <param name="name">A name for diagnostics (DPDK's ring name); not empty.</param>
    /// <param name="capacity">How many items fit: 1 to 2^28.</param>
    /// <param name="flags">Single-producer and/or single-consumer mode; <see cref="RingFlags.None"/> is MP/MC.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> or <paramref name="flags"/> is out of range.</exception>
    public Ring(string name, int capacity, RingFlags flags = RingFlags.None)
        : this(name, capacity, flags, 0)
    {
    }

    /// <summary>
    /// Creates a ring whose four indices start at <paramref name="initialIndex"/> instead of 0, so that
    /// tests can drive the free-running counters across the 2^32 wrap quickly.
    /// </summary>
    internal Ring(string name, int capacity, RingFlags flags, uint initialIndex)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (capacity < 1 || capacity > MaxCapacity)
        {
            throw new ArgumentOutOfRangeException(
                nameof(capacity), capacity, $"Ring '{name}': capacity must be between 1 and {MaxCapacity} (2^28).");
        }

        if ((flags & ~(RingFlags.SingleProducer | RingFlags.SingleConsumer)) != 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(flags), flags, $"Ring '{name}': flags may only combine {nameof(RingFlags.SingleProducer)} and {nameof(RingFlags.SingleConsumer)}.");
        }

        Name = name;
        Capacity = capacity;
        Flags = flags;
        _capacity = (uint)capacity;
        _size = BitOperations.RoundUpToPowerOf2((uint)capacity);
        _mask = _size - 1;
        _singleProducer = (flags & RingFlags.SingleProducer) != 0;
        _singleConsumer = (flags & RingFlags.SingleConsumer) != 0;

        nuint bytes = SlotsOffset + ((nuint)_size * (nuint)sizeof(T));
        byte* block = (byte*)NativeMemory.AlignedAlloc(bytes, CacheLine);
        NativeMemory.Clear(block, SlotsOffset);
        _block = (nint)block;
        _prod = (RingHeadTail*)(block + ProdOffset);
        _cons = (RingHeadTail*)(block + ConsOffset);
        _slots = (T*)(block + SlotsOffset);
        _prod->Head = _prod->Tail = initialIndex;
        _cons->Head = _cons->Tail = initialIndex;
    }

    /// <summary>Frees the native memory if <see cref="Dispose"/> was never called.</summary>
    ~Ring() => Free();

    /// <summary>The ring's name, for diagnostics.</summary>
    public string Name { get; }

    /// <summary>How many items fit, exactly as requested at construction.</summary>
    public int Capacity { get; }

    /// <summary>The synchronisation mode given at construction.</summary>
    public RingFlags Flags { get; }

    /// <summary>How many items are in the ring (a snapshot; 0..<see cref="Capacity"/>).</summary>
    public int Count
    {
        get
        {
            RingHeadTail* prod = _prod;
            RingHeadTail* cons = _cons;
            if (prod == null)
            {
                return 0;
            }

            // Consumer tail first: it can only have grown by the time the producer tail is read,
            // so the difference is never negative; it can overshoot under concurrency, hence the clamp.
            uint consTail = Volatile.Read(ref cons->Tail);
            uint prodTail = Volatile.Read(ref prod->Tail);
            uint count = prodTail - consTail;
            return (int)(count > _capacity ? _capacity : count);
        }
    }

    /// <summary>How many more items fit (a snapshot; 0..<see cref="Capacity"/>).</summary>
    public int FreeCount => Capacity - Count;

    /// <summary>Whether the ring holds no item (a snapshot).</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Whether the ring holds <see cref="Capacity"/> items (a snapshot).</summary>
    public bool IsFull => Count == Capacity;

    /// <summary>Enqueues all of <paramref name="items"/> or none of them.</summary>
    /// <returns><c>items.Length</c>, or 0 if they did not all fit (or <paramref name="items"/> is empty).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int EnqueueBulk(ReadOnlySpan<T> items) => Enqueue(items, exact: true);

    /// <summary>Enqueues as many of <paramref name="items"/> as fit, from the start of the span.</summary>
    /// <returns>How many were enqueued: 0..<c>items.Length</c>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int EnqueueBurst(ReadOnlySpan<T> items) => Enqueue(items, exact: false);

    /// <summary>Dequeues exactly <c>items.Length</c> items into <paramref name="items"/>, or none.</summary>
    /// <returns><c>items.Length</c>, or 0 if fewer were available (or <paramref name="items"/> is empty).</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DequeueBulk(Span<T> items) => Dequeue(items, exact: true);

    /// <summary>Dequeues as many items as are available, up to <c>items.Length</c>, into the start of <paramref name="items"/>.</summary>
    /// <returns>How many were dequeued: 0..<c>items.Length</c>.</returns>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DequeueBurst(Span<T> items) => Dequeue(items, exact: false);

    /// <summary>Enqueues one item if there is room.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryEnqueue(T item)
    {
        RingHeadTail* prod = _prod;
        if (prod == null || MoveProdHead(prod, 1, exact: true, out uint head) == 0)
        {
            return false;
        }

        _slots[head & _mask] = item;
        UpdateTail(&prod->Tail, head, head + 1, _singleProducer);
        GC.KeepAlive(this);
        return true;
    }

    /// <summary>Dequeues one item if there is one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDequeue(out T item)
    {
        RingHeadTail* cons = _cons;
        if (cons == null || MoveConsHead(cons, 1, exact: true, out uint head) == 0)
        {
            item = default;
            return false;
        }

        item = _slots[head & _mask];
        UpdateTail(&cons->Tail, head, head + 1, _singleConsumer);
        GC.KeepAlive(this);
        return true;
    }

    /// <summary>Frees the native memory. Idempotent; later operations return 0 / <see langword="false"/>.</summary>
    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Enqueue(ReadOnlySpan<T> items, bool exact)
    {
        RingHeadTail* prod = _prod;
        if (prod == null)
        {
            return 0;
        }

        uint n = MoveProdHead(prod, (uint)items.Length, exact, out uint head);
        if (n != 0)
        {
            CopyIn(head, ref MemoryMarshal.GetReference(items), n);
            UpdateTail(&prod->Tail, head, head + n, _singleProducer);
        }

        GC.KeepAlive(this);
        return (int)n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Dequeue(Span<T> items, bool exact)
    {
        RingHeadTail* cons = _cons;
        if (cons == null)
        {
            return 0;
        }

        uint n = MoveConsHead(cons, (uint)items.Length, exact, out uint head);
        if (n != 0)
        {
            CopyOut(head, ref MemoryMarshal.GetReference(items), n);
            UpdateTail(&cons->Tail, head, head + n, _singleConsumer);
        }

        GC.KeepAlive(this);
        return (int)n;
    }

    /// <summary>
    /// Reserves up to <paramref name="max"/> slots for the producer (all of them when
    /// <paramref name="exact"/>). Returns how many; <paramref name="head"/> is the first reserved index.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint MoveProdHead(RingHeadTail* prod, uint max, bool exact, out uint head)
    {
        // free = capacity - (head - consumer tail). The acquire read of the consumer tail orders our
        // later stores into the slots after the consumer's loads from them.
        if (_singleProducer)
        {
            head = prod->Head;
            uint free = _capacity + Volatile.Read(ref _cons->Tail) - head;
            uint n = max <= free ? max : (exact ? 0 : free);
            prod->Head = head + n;
            return n;
        }

        if (max == 0)
        {
            head = 0;
            return 0;
        }

        head = Volatile.Read(ref prod->Head);
        while (true)
        {
            // If another producer moved the head since we read it, this free count may be stale
            // (even > capacity), but then the CAS below fails and we retry with the fresh head.
            uint free = _capacity + Volatile.Read(ref _cons->Tail) - head;
            uint n = max <= free ? max : (exact ? 0 : free);
            if (n == 0)
            {
                return 0;
            }

            uint seen = Interlocked.CompareExchange(ref prod->Head, head + n, head);
            if (seen == head)
            {
                return n;
            }

            head = seen;
        }
    }

    /// <summary>Consumer counterpart of <see cref="MoveProdHead"/>: reserves up to <paramref name="max"/> filled slots.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint MoveConsHead(RingHeadTail* cons, uint max, bool exact, out uint head)
    {
        // entries = producer tail - head. The acquire read of the producer tail orders our later
        // loads from the slots after the producer's stores into them.
        if (_singleConsumer)
        {
            head = cons->Head;
            uint entries = Volatile.Read(ref _prod->Tail) - head;
            uint n = max <= entries ? max : (exact ? 0 : entries);
            cons->Head = head + n;
            return n;
        }

        if (max == 0)
        {
            head = 0;
            return 0;
        }

        head = Volatile.Read(ref cons->Head);
        while (true)
        {
            uint entries = Volatile.Read(ref _prod->Tail) - head;
            uint n = max <= entries ? max : (exact ? 0 : entries);
            if (n == 0)
            {
                return 0;
            }

            uint seen = Interlocked.CompareExchange(ref cons->Head, head + n, head);
            if (seen == head)
            {
                return n;
            }

            head = seen;
        }
    }

    /// <summary>
    /// Publishes [<paramref name="head"/>, <paramref name="next"/>) to the other side. With several
    /// threads on this side, first waits for every earlier reservation to publish.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateTail(uint* tail, uint head, uint next, bool single)
    {
        if (!single && Volatile.Read(ref *tail) != head)
        {
            WaitForTail(tail, head);
        }

        Volatile.Write(ref *tail, next);
    }

    /// <summary>
    /// Waits until the tail reaches <paramref name="expected"/>: spins briefly, then yields so that a
    /// preempted thread that holds an earlier reservation gets a CPU (an oversubscribed machine
    /// would otherwise spin away the waiter's whole time slice).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void WaitForTail(uint* tail, uint expected)
    {
        int spins = 0;
        while (Volatile.Read(ref *tail) != expected)
        {
            if (spins < SpinsBeforeYield)
            {
                spins++;
                Thread.SpinWait(1);
            }
            else
            {
                Thread.Yield();
            }
        }
    }

    /// <summary>Copies <paramref name="n"/> items from <paramref name="source"/> into the slots from index <paramref name="head"/>, wrapping once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyIn(uint head, ref T source, uint n)
    {
        T* slots = _slots;
        uint index = head & _mask;
        uint first = _size - index;
        if (n <= first)
        {
            Copy(ref slots[index], ref source, n);
        }
        else
        {
            Copy(ref slots[index], ref source, first);
            Copy(ref slots[0], ref Unsafe.Add(ref source, first), n - first);
        }
    }

    /// <summary>Copies <paramref name="n"/> items from the slots at index <paramref name="head"/> into <paramref name="destination"/>, wrapping once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CopyOut(uint head, ref T destination, uint n)
    {
        T* slots = _slots;
        uint index = head & _mask;
        uint first = _size - index;
        if (n <= first)
        {
            Copy(ref destination, ref slots[index], n);
        }
        else
        {
            Copy(ref destination, ref slots[index], first);
            Copy(ref Unsafe.Add(ref destination, first), ref slots[0], n - first);
        }
    }

    /// <summary>Copies <paramref name="n"/> items (n ≤ 2^28, so the count fits an int) between non-overlapping areas.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(ref T destination, ref T source, uint n)
        => MemoryMarshal.CreateReadOnlySpan(ref source, (int)n).CopyTo(MemoryMarshal.CreateSpan(ref destination, (int)n));

    private void Free()
    {
        nint block = Interlocked.Exchange(ref _block, 0);
        if (block == 0)
        {
            return;
        }

        _prod = null;
        _cons = null;
        _slots = null;
        NativeMemory.AlignedFree((void*)block);
    }
}
