using Hyperlane.Vhost.Memory;
using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary><see cref="PackedVhostQueue.TryCreate"/>: what it accepts, what it refuses (never by throwing), and what it writes.</summary>
public sealed class PackedQueueSetupTests : IDisposable
{
    private readonly PackedTestGuest _guest = new(4 << 20, 3 << 20);

    public void Dispose() => _guest.Dispose();

    private VirtqueueSetup Setup(int size, Func<VirtqueueSetup, VirtqueueSetup>? change = null)
    {
        ulong ring = _guest.Alloc((long)Math.Clamp(size, 1, 32768) * 16, 16);
        ulong driver = _guest.Alloc(4, 4);
        ulong device = _guest.Alloc(4, 4);
        var setup = new VirtqueueSetup
        {
            Index = 3,
            Size = size,
            DescUserAddr = _guest.UserOf(ring),
            AvailUserAddr = _guest.UserOf(driver),
            UsedUserAddr = _guest.UserOf(device),
            Base = 0x8000,
            Features = PackedTestBench.Modern,
            Memory = _guest.Memory,
        };
        return change is null ? setup : change(setup);
    }

    private static string Refused(VirtqueueSetup setup)
    {
        Assert.False(PackedVhostQueue.TryCreate(setup, out var queue, out var error));
        Assert.Null(queue);
        Assert.False(string.IsNullOrEmpty(error));
        return error!;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(250)]
    [InlineData(256)]
    [InlineData(32768)]
    public void Any_size_from_1_to_32768_is_accepted_and_the_device_area_says_disable(int size)
    {
        VirtqueueSetup setup = Setup(size);
        Assert.True(PackedVhostQueue.TryCreate(setup, out var queue, out var error), error);
        Assert.Equal(size, queue!.Size);
        Assert.Equal(3, queue.Index);
        Assert.Equal(0x8000u, queue.GetBase());
        Assert.True(_guest.Memory.TryTranslateUser(setup.UsedUserAddr, 4, out _));
        ulong deviceGpa = PackedTestGuest.GuestBase + (setup.UsedUserAddr - PackedTestGuest.UserBase);
        var area = System.Runtime.InteropServices.MemoryMarshal.Read<VirtqPackedEventSuppress>(_guest.Bytes(deviceGpa, 4));
        Assert.Equal(PackedEventFlags.Disable, area.EventFlags);
    }

    [Theory]
    [InlineData(0x0000u)]
    [InlineData(0x8000u)]
    [InlineData(0x0005u)]
    [InlineData(0x80F9u)] // index 249 of 250, wrap 1
    public void Base_is_the_next_avail_index_and_the_wrap_counter(uint value)
    {
        Assert.True(PackedVhostQueue.TryCreate(Setup(250, s => With(s, b: value)), out var queue, out var error), error);
        Assert.Equal(value, queue!.GetBase());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(32769)]
    [InlineData(65536)]
    public void Sizes_outside_1_to_32768_are_refused(int size) => Assert.Contains("size", Refused(Setup(size)));

    [Fact]
    public void Split_ring_features_and_iova_addresses_are_refused()
    {
        Assert.Contains("RING_PACKED", Refused(Setup(64, s => With(s, features: PackedTestBench.Version1))));
        Assert.Contains("ACCESS_PLATFORM", Refused(Setup(64, s => With(s, features: PackedTestBench.Modern | (1UL << VirtioFeatures.AccessPlatform)))));
    }

    [Theory]
    [InlineData(64u)]       // index = size
    [InlineData(0x807Fu)]   // index 127 of 64
    [InlineData(0x10000u)]  // above 16 bits
    [InlineData(0xFFFFFFFFu)]
    public void Base_outside_the_ring_is_refused(uint value) => Assert.Contains("base", Refused(Setup(64, s => With(s, b: value))));

    [Fact]
    public void Rings_not_wholly_mapped_or_misaligned_are_refused()
    {
        ulong end = PackedTestGuest.UserBase + (ulong)_guest.Size;
        Assert.Contains("descriptor ring", Refused(Setup(64, s => With(s, desc: 0x1234_0000))));
        Assert.Contains("descriptor ring", Refused(Setup(64, s => With(s, desc: end - (64 * 16) + 16)))); // last entry runs past the region
        Assert.Contains("descriptor ring", Refused(Setup(64, s => With(s, desc: ulong.MaxValue - 15))));
        Assert.Contains("aligned", Refused(Setup(64, s => With(s, desc: s.DescUserAddr + 8))));
        Assert.Contains("driver event", Refused(Setup(64, s => With(s, avail: end - 2))));
        Assert.Contains("driver event", Refused(Setup(64, s => With(s, avail: s.AvailUserAddr + 2))));
        Assert.Contains("device event", Refused(Setup(64, s => With(s, used: 0))));
        Assert.Contains("device event", Refused(Setup(64, s => With(s, used: s.UsedUserAddr + 1))));
    }

    [Fact]
    public void No_memory_table_or_no_setup_is_refused_without_throwing()
    {
        Assert.Contains("descriptor ring", Refused(Setup(64, s => With(s, memory: GuestMemory.Empty))));
        Assert.Contains("memory table", Refused(Setup(64, s => With(s, memory: null, nullMemory: true))));
        Assert.False(PackedVhostQueue.TryCreate(null!, out _, out var error));
        Assert.NotNull(error);
    }

    private static VirtqueueSetup With(
        VirtqueueSetup s, uint? b = null, ulong? features = null, ulong? desc = null, ulong? avail = null, ulong? used = null, GuestMemory? memory = null, bool nullMemory = false) =>
        new()
        {
            Index = s.Index,
            Size = s.Size,
            DescUserAddr = desc ?? s.DescUserAddr,
            AvailUserAddr = avail ?? s.AvailUserAddr,
            UsedUserAddr = used ?? s.UsedUserAddr,
            Base = b ?? s.Base,
            Features = features ?? s.Features,
            Memory = nullMemory ? null! : memory ?? s.Memory,
        };
}
