using System.Reflection;

namespace Hyperlane.Memory.Tests;

public class RingConstructionTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    [InlineData((1 << 28) + 1)]
    [InlineData(int.MaxValue)]
    public void Capacity_out_of_range_throws_naming_capacity_and_range(int capacity)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Ring<ulong>("r", capacity));
        Assert.Equal("capacity", ex.ParamName);
        Assert.Equal(capacity, ex.ActualValue);
        Assert.Contains("between 1 and 268435456", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Capacity_at_the_bounds_is_accepted()
    {
        using (var one = new Ring<ulong>("one", 1))
        {
            Assert.Equal(1, one.Capacity);
        }

        // 2^28 one-byte slots: 256 MiB of address space, only touched where written.
        using var max = new Ring<byte>("max", 1 << 28, RingFlags.SingleProducer | RingFlags.SingleConsumer);
        Assert.Equal(1 << 28, max.Capacity);
        Assert.Equal(1 << 28, max.FreeCount);
        Assert.True(max.TryEnqueue(42));
        Assert.True(max.TryDequeue(out byte b));
        Assert.Equal(42, b);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void Exactly_capacity_items_fit(int capacity)
    {
        foreach (RingFlags flags in AllFlags)
        {
            using var ring = new Ring<ulong>("exact", capacity, flags);
            int n = 0;
            while (ring.TryEnqueue((ulong)n))
            {
                n++;
                Assert.True(n <= capacity, "ring accepted more than its capacity");
            }

            Assert.Equal(capacity, n);
            Assert.Equal(capacity, ring.Count);
            Assert.Equal(0, ring.FreeCount);
            Assert.True(ring.IsFull);
            Assert.Equal(0, ring.EnqueueBurst(new ulong[] { 1 }));
            Assert.Equal(0, ring.EnqueueBulk(new ulong[] { 1 }));

            var all = new ulong[capacity];
            Assert.Equal(capacity, ring.DequeueBulk(all));
            for (int i = 0; i < capacity; i++)
            {
                Assert.Equal((ulong)i, all[i]);
            }

            Assert.True(ring.IsEmpty);

            // A bulk of exactly the capacity fits in one go.
            Assert.Equal(capacity, ring.EnqueueBulk(all));
            Assert.True(ring.IsFull);
        }
    }

    [Fact]
    public void Name_null_or_empty_throws()
    {
        var nullEx = Assert.ThrowsAny<ArgumentException>(() => new Ring<ulong>(null!, 8));
        Assert.Equal("name", nullEx.ParamName);
        var emptyEx = Assert.ThrowsAny<ArgumentException>(() => new Ring<ulong>(string.Empty, 8));
        Assert.Equal("name", emptyEx.ParamName);
    }

    [Fact]
    public void Unknown_flags_throw()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new Ring<ulong>("r", 8, (RingFlags)4));
        Assert.Equal("flags", ex.ParamName);
    }

    [Fact]
    public void Properties_reflect_construction()
    {
        using var ring = new Ring<RingTestItem>("rx-0", 100, RingFlags.SingleConsumer);
        Assert.Equal("rx-0", ring.Name);
        Assert.Equal(100, ring.Capacity);
        Assert.Equal(RingFlags.SingleConsumer, ring.Flags);
        Assert.Equal(0, ring.Count);
        Assert.Equal(100, ring.FreeCount);
        Assert.True(ring.IsEmpty);
        Assert.False(ring.IsFull);
    }

    [Fact]
    public void Dispose_is_idempotent_and_later_operations_do_nothing()
    {
        var ring = new Ring<ulong>("d", 16);
        Assert.True(ring.TryEnqueue(7));
        ring.Dispose();
        ring.Dispose();

        Assert.Equal(0, ring.EnqueueBulk(new ulong[] { 1, 2 }));
        Assert.Equal(0, ring.EnqueueBurst(new ulong[] { 1, 2 }));
        Assert.Equal(0, ring.DequeueBulk(new ulong[1]));
        Assert.Equal(0, ring.DequeueBurst(new ulong[4]));
        Assert.False(ring.TryEnqueue(1));
        Assert.False(ring.TryDequeue(out ulong item));
        Assert.Equal(0ul, item);
        Assert.Equal(0, ring.Count);
        ring.Dispose();
    }

    [Fact]
    public void One_public_constructor_with_the_documented_signature()
    {
        ConstructorInfo[] ctors = typeof(Ring<ulong>).GetConstructors();
        ConstructorInfo ctor = Assert.Single(ctors);
        Assert.Equal(
            [typeof(string), typeof(int), typeof(RingFlags)],
            ctor.GetParameters().Select(p => p.ParameterType).ToArray());
        Assert.Equal(RingFlags.None, ctor.GetParameters()[2].DefaultValue);
    }

    internal static readonly RingFlags[] AllFlags =
    [
        RingFlags.None,
        RingFlags.SingleProducer,
        RingFlags.SingleConsumer,
        RingFlags.SingleProducer | RingFlags.SingleConsumer,
    ];
}
