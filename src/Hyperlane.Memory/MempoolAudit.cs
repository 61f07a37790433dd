namespace Hyperlane.Memory;

/// <summary>Where a mempool's objects are: in the shared ring, in lcore caches, or out with users.</summary>
public readonly record struct MempoolAudit(int Total, int InRing, int InCaches, int InUse)
{
    public int Available => InRing + InCaches;

    /// <summary>True when every object is back in the pool.</summary>
    public bool IsFull => InUse == 0;
}
