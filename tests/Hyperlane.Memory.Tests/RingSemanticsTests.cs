using System.Reflection;

namespace Hyperlane.Memory.Tests;

/// <summary>Single-threaded behaviour of <see cref="Ring{T}"/>, in every synchronisation mode.</summary>
public class RingSemanticsTests
{
    public static TheoryData<RingFlags> Modes => new(RingConstructionTests.AllFlags);

    [Theory]
    [MemberData(nameof(Modes))]
    public void Single_items_come_out_in_fifo_order(RingFlags flags)
    {
        using var ring = new Ring<ulong>("fifo", 10, flags);
        for (ulong round = 0; round < 50; round++)
        {
            for (ulong i = 0; i < 7; i++)
            {
                Assert.True(ring.TryEnqueue((round * 100) + i));
            }

            for (ulong i = 0; i < 7; i++)
            {
                Assert.True(ring.TryDequeue(out ulong v));
                Assert.Equal((round * 100) + i, v);
            }

            Assert.False(ring.TryDequeue(out ulong none));
            Assert.Equal(0ul, none);
        }
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Bulk_is_all_or_nothing(RingFlags flags)
    {
        using var ring = new Ring<ulong>("bulk", 10, flags);
        Assert.Equal(7, ring.EnqueueBulk(Seq(0, 7)));

        // 4 do not fit in the 3 free slots: nothing moves.
        Assert.Equal(0, ring.EnqueueBulk(Seq(100, 4)));
        Assert.Equal(7, ring.Count);
        Assert.Equal(3, ring.FreeCount);

        Assert.Equal(3, ring.EnqueueBulk(Seq(7, 3)));
        Assert.True(ring.IsFull);

        // 11 are not there: nothing moves, the destination is untouched.
        ulong[] tooMany = new ulong[11];
        Array.Fill(tooMany, 0xDEADul);
        Assert.Equal(0, ring.DequeueBulk(tooMany));
        Assert.All(tooMany, v => Assert.Equal(0xDEADul, v));
        Assert.Equal(10, ring.Count);

        ulong[] four = new ulong[4];
        Assert.Equal(4, ring.DequeueBulk(four));
        Assert.Equal(Seq(0, 4), four);
        ulong[] six = new ulong[6];
        Assert.Equal(6, ring.DequeueBulk(six));
        Assert.Equal(Seq(4, 6), six);
        Assert.True(ring.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Bulk_larger_than_capacity_returns_zero(RingFlags flags)
    {
        using var ring = new Ring<ulong>("big", 5, flags);
        Assert.Equal(0, ring.EnqueueBulk(Seq(0, 6)));
        Assert.Equal(0, ring.EnqueueBulk(Seq(0, 8))); // the slot array has 8 entries; capacity is still 5
        Assert.True(ring.IsEmpty);
        Assert.Equal(5, ring.EnqueueBulk(Seq(0, 5)));
        Assert.Equal(0, ring.DequeueBulk(new ulong[6]));
        Assert.Equal(5, ring.Count);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Burst_moves_as_many_as_possible(RingFlags flags)
    {
        using var ring = new Ring<ulong>("burst", 10, flags);
        Assert.Equal(10, ring.EnqueueBurst(Seq(0, 15)));
        Assert.True(ring.IsFull);
        Assert.Equal(0, ring.EnqueueBurst(Seq(50, 3)));

        ulong[] three = new ulong[3];
        Assert.Equal(3, ring.DequeueBurst(three));
        Assert.Equal(Seq(0, 3), three);

        Assert.Equal(3, ring.EnqueueBurst(Seq(10, 5)));

        ulong[] many = new ulong[20];
        Array.Fill(many, 0xDEADul);
        Assert.Equal(10, ring.DequeueBurst(many));
        Assert.Equal(Seq(3, 10), many[..10]);
        Assert.All(many[10..], v => Assert.Equal(0xDEADul, v));
        Assert.Equal(0, ring.DequeueBurst(many));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Zero_length_operations_return_zero_and_change_nothing(RingFlags flags)
    {
        using var ring = new Ring<ulong>("zero", 4, flags);
        for (int fill = 0; fill <= 4; fill++)
        {
            Assert.Equal(0, ring.EnqueueBulk(ReadOnlySpan<ulong>.Empty));
            Assert.Equal(0, ring.EnqueueBurst(ReadOnlySpan<ulong>.Empty));
            Assert.Equal(0, ring.DequeueBulk(Span<ulong>.Empty));
            Assert.Equal(0, ring.DequeueBurst(Span<ulong>.Empty));
            Assert.Equal(fill, ring.Count);
            if (fill < 4)
            {
                Assert.True(ring.TryEnqueue((ulong)fill));
            }
        }

        Assert.Equal(Seq(0, 4), Drain(ring));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Count_free_empty_full_track_contents(RingFlags flags)
    {
        using var ring = new Ring<ulong>("count", 6, flags);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(i, ring.Count);
            Assert.Equal(6 - i, ring.FreeCount);
            Assert.Equal(i == 0, ring.IsEmpty);
            Assert.False(ring.IsFull);
            Assert.True(ring.TryEnqueue((ulong)i));
        }

        Assert.True(ring.IsFull);
        Assert.False(ring.IsEmpty);
        for (int i = 6; i > 0; i--)
        {
            Assert.Equal(i, ring.Count);
            Assert.True(ring.TryDequeue(out _));
            Assert.False(ring.IsFull);
        }

        Assert.True(ring.IsEmpty);
        Assert.Equal(6, ring.FreeCount);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Wraps_many_times_with_odd_bursts_ulong(RingFlags flags)
    {
        using var ring = new Ring<ulong>("wrap", 37, flags);
        RunAgainstModel(ring, v => v, seed: 1);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Wraps_many_times_with_odd_bursts_16_byte_struct(RingFlags flags)
    {
        using var ring = new Ring<RingTestItem>("wrap16", 37, flags);
        RunAgainstModel(ring, RingTestItem.From, seed: 2);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Free_running_indices_cross_the_32_bit_wrap(RingFlags flags)
    {
        // Start all four indices just below 2^32 so that the model run crosses the wrap many slots in.
        using Ring<ulong> ring = CreateStartingAt<ulong>("u32wrap", 37, flags, uint.MaxValue - 300);
        RunAgainstModel(ring, v => v, seed: 3);

        using Ring<RingTestItem> ring16 = CreateStartingAt<RingTestItem>("u32wrap16", 64, flags, uint.MaxValue - 20);
        RunAgainstModel(ring16, RingTestItem.From, seed: 4);
    }

    [Fact]
    public void Items_of_16_bytes_keep_their_bytes()
    {
        using var ring = new Ring<RingTestItem>("s16", 5);
        RingTestItem[] input = [new(1, 2), new(ulong.MaxValue, 0), new(0x0123456789ABCDEF, 0xFEDCBA9876543210)];
        Assert.Equal(3, ring.EnqueueBulk(input));
        Assert.True(ring.TryEnqueue(new RingTestItem(9, 9)));
        var output = new RingTestItem[4];
        Assert.Equal(4, ring.DequeueBurst(output));
        Assert.Equal([.. input, new RingTestItem(9, 9)], output);
    }

    /// <summary>
    /// Drives <paramref name="ring"/> with random single, bulk and burst operations of odd sizes,
    /// checking each result, the contents and the counters against a <see cref="Queue{T}"/>.
    /// </summary>
    private static void RunAgainstModel<T>(Ring<T> ring, Func<ulong, T> make, int seed)
        where T : unmanaged, IEquatable<T>
    {
        var random = new Random(seed);
        var model = new Queue<T>();
        int capacity = ring.Capacity;
        var buffer = new T[capacity + 8];
        ulong next = 0;
        for (int op = 0; op < 20_000; op++)
        {
            int n = random.Next(0, capacity + 4);
            switch (random.Next(6))
            {
                case 0:
                case 1:
                    {
                        var items = new T[n];
                        for (int i = 0; i < n; i++)
                        {
                            items[i] = make(next + (ulong)i);
                        }

                        bool bulk = random.Next(2) == 0;
                        int free = capacity - model.Count;
                        int expected = bulk ? (n <= free ? n : 0) : Math.Min(n, free);
                        Assert.Equal(expected, bulk ? ring.EnqueueBulk(items) : ring.EnqueueBurst(items));
                        for (int i = 0; i < expected; i++)
                        {
                            model.Enqueue(items[i]);
                        }

                        next += (ulong)expected;
                        break;
                    }

                case 2:
                case 3:
                    {
                        bool bulk = random.Next(2) == 0;
                        int expected = bulk ? (n <= model.Count ? n : 0) : Math.Min(n, model.Count);
                        Span<T> dst = buffer.AsSpan(0, n);
                        Assert.Equal(expected, bulk ? ring.DequeueBulk(dst) : ring.DequeueBurst(dst));
                        for (int i = 0; i < expected; i++)
                        {
                            Assert.Equal(model.Dequeue(), dst[i]);
                        }

                        break;
                    }

                case 4:
                    {
                        bool ok = ring.TryEnqueue(make(next));
                        Assert.Equal(model.Count < capacity, ok);
                        if (ok)
                        {
                            model.Enqueue(make(next++));
                        }

                        break;
                    }

                default:
                    {
                        bool ok = ring.TryDequeue(out T item);
                        Assert.Equal(model.Count > 0, ok);
                        Assert.Equal(ok ? model.Dequeue() : default, item);
                        break;
                    }
            }

            Assert.Equal(model.Count, ring.Count);
            Assert.Equal(capacity - model.Count, ring.FreeCount);
            Assert.Equal(model.Count == 0, ring.IsEmpty);
            Assert.Equal(model.Count == capacity, ring.IsFull);
        }

        // Enough traffic went through to wrap the slot array many times.
        Assert.True(next > (ulong)capacity * 100, $"only {next} items went through");
        Span<T> rest = buffer.AsSpan(0, model.Count);
        Assert.Equal(model.Count, ring.DequeueBulk(rest));
        Assert.Equal(model.ToArray(), rest.ToArray());
    }

    internal static Ring<T> CreateStartingAt<T>(string name, int capacity, RingFlags flags, uint initialIndex)
        where T : unmanaged
    {
        ConstructorInfo ctor = typeof(Ring<T>).GetConstructor(
            BindingFlags.Instance | BindingFlags.NonPublic,
            [typeof(string), typeof(int), typeof(RingFlags), typeof(uint)])
            ?? throw new InvalidOperationException("Ring<T> lost its internal (name, capacity, flags, initialIndex) constructor.");
        return (Ring<T>)ctor.Invoke([name, capacity, flags, initialIndex]);
    }

    private static ulong[] Seq(ulong start, int count)
    {
        var a = new ulong[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = start + (ulong)i;
        }

        return a;
    }

    private static ulong[] Drain(Ring<ulong> ring)
    {
        var a = new ulong[ring.Count];
        Assert.Equal(a.Length, ring.DequeueBulk(a));
        return a;
    }
}
