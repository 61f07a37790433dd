using Hyperlane.Vhost.Queues;
using Hyperlane.Vhost.Virtio;

namespace Hyperlane.Vhost.Tests;

/// <summary><see cref="SplitVhostQueue.TryCreate"/>: sizes (hardening.md VU-06), rings translated whole (CVE-2018-1059), alignment, unsupported features; never throws.</summary>
public class SplitQueueCreateTests
{
    private static readonly ulong V1 = VirtioFeatures.Mask(VirtioFeatures.Version1);
    private static readonly ulong EventIdx = VirtioFeatures.Mask(VirtioFeatures.RingEventIdx);

    private static string Refuse(VirtqueueSetup setup)
    {
        Assert.False(SplitVhostQueue.TryCreate(setup, out SplitVhostQueue? queue, out string? error));
        Assert.Null(queue);
        Assert.False(string.IsNullOrEmpty(error));
        return error!;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(256)]
    [InlineData(1024)]
    [InlineData(32768)]
    public void Power_of_two_sizes_up_to_32768_are_accepted(int size)
    {
        using var driver = new SplitRingDriver(size, V1);
        Assert.True(SplitVhostQueue.TryCreate(driver.Setup(), out SplitVhostQueue? queue, out string? error), error);
        Assert.Equal(size, queue!.Size);
        Assert.Equal(1, queue.Index);
        Assert.False(queue.IsBroken);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(65536)]
    [InlineData(int.MinValue)]
    public void Other_sizes_are_refused(int size)
    {
        using var driver = new SplitRingDriver(256, V1);
        string error = Refuse(driver.Setup(size: size));
        Assert.Contains("power of two", error, StringComparison.Ordinal);
        Assert.Contains(size.ToString(System.Globalization.CultureInfo.InvariantCulture), error, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_setup_or_memory_is_refused_not_thrown()
    {
        Assert.False(SplitVhostQueue.TryCreate(null!, out _, out string? error));
        Assert.NotNull(error);
        using var driver = new SplitRingDriver(256, V1);
        VirtqueueSetup s = driver.Setup();
        Refuse(new VirtqueueSetup
        {
            Index = s.Index, Size = s.Size, DescUserAddr = s.DescUserAddr, AvailUserAddr = s.AvailUserAddr, UsedUserAddr = s.UsedUserAddr,
            Base = 0, Features = s.Features, Memory = null!,
        });
    }

    [Fact]
    public void Without_event_idx_the_guest_is_told_not_to_kick()
    {
        using var driver = new SplitRingDriver(256, V1);
        _ = driver.CreateQueue();
        Assert.Equal(VirtqUsedHeader.FlagNoNotify, driver.UsedFlags);
    }

    [Fact]
    public void With_event_idx_used_flags_are_zero_as_the_spec_requires()
    {
        using var driver = new SplitRingDriver(256, V1 | EventIdx);
        driver.WriteU16(SplitRingDriver.UsedGpa, 0xFFFF);
        _ = driver.CreateQueue();
        Assert.Equal(0, driver.UsedFlags);
    }

    [Fact]
    public void Base_is_where_processing_starts_and_what_GetBase_returns()
    {
        using var driver = new SplitRingDriver(256, V1, baseIndex: 65530);
        SplitVhostQueue queue = driver.CreateQueue();
        Assert.Equal(65530u, queue.GetBase());
        Refuse(driver.Setup(baseIndex: 0x10000));
    }

    [Fact]
    public void A_ring_outside_the_memory_table_is_refused()
    {
        using var driver = new SplitRingDriver(256, V1);
        Assert.Contains("descriptor table", Refuse(driver.Setup(descUser: 0x1000)), StringComparison.Ordinal);
        Assert.Contains("avail ring", Refuse(driver.Setup(availUser: 0xDEAD_0000)), StringComparison.Ordinal);
        Assert.Contains("used ring", Refuse(driver.Setup(usedUser: 0x10)), StringComparison.Ordinal);
    }

    [Fact]
    public void A_ring_whose_start_is_mapped_but_whose_end_is_not_is_refused()
    {
        // CVE-2018-1059: only the start address was checked. The used ring of 256 entries (2054 bytes) starting
        // 1 KiB before the end of region A runs past it.
        using var driver = new SplitRingDriver(256, V1);
        ulong nearEnd = SplitRingDriver.RegionAUser + SplitRingDriver.RegionASize - 1024;
        Assert.Contains("used ring", Refuse(driver.Setup(usedUser: nearEnd)), StringComparison.Ordinal);
        Assert.Contains("descriptor table", Refuse(driver.Setup(descUser: nearEnd)), StringComparison.Ordinal);
    }

    [Fact]
    public void Used_event_and_avail_event_are_part_of_the_rings_only_with_event_idx()
    {
        // An avail ring of 256 entries ending exactly at the end of region A fits without used_event
        // (4 + 512 bytes) and does not with it (+ 2).
        using var driver = new SplitRingDriver(256, V1);
        ulong end = SplitRingDriver.RegionAUser + SplitRingDriver.RegionASize;
        ulong avail = end - (4 + 512);
        Assert.True(SplitVhostQueue.TryCreate(driver.Setup(availUser: avail), out _, out string? error), error);
        Assert.Contains("avail ring", Refuse(driver.Setup(availUser: avail, features: V1 | EventIdx)), StringComparison.Ordinal);

        ulong used = end - (4 + (8 * 256));
        Assert.True(SplitVhostQueue.TryCreate(driver.Setup(usedUser: used), out _, out error), error);
        Assert.Contains("used ring", Refuse(driver.Setup(usedUser: used, features: V1 | EventIdx)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(8, 0, 0)]
    [InlineData(0, 1, 0)]
    [InlineData(0, 0, 2)]
    public void Misaligned_rings_are_refused(int descOffset, int availOffset, int usedOffset)
    {
        using var driver = new SplitRingDriver(256, V1);
        string error = Refuse(driver.Setup(
            descUser: SplitRingDriver.UserOf(SplitRingDriver.DescGpa) + (ulong)descOffset,
            availUser: SplitRingDriver.UserOf(SplitRingDriver.AvailGpa) + (ulong)availOffset,
            usedUser: SplitRingDriver.UserOf(SplitRingDriver.UsedGpa) + (ulong)usedOffset));
        Assert.Contains("aligned", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(VirtioFeatures.RingPacked)]
    [InlineData(VirtioFeatures.AccessPlatform)]
    public void Unsupported_ring_features_are_refused(int bit)
    {
        using var driver = new SplitRingDriver(256, V1);
        Refuse(driver.Setup(features: V1 | VirtioFeatures.Mask(bit)));
    }
}
