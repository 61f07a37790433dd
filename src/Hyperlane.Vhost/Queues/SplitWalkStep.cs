namespace Hyperlane.Vhost.Queues;

/// <summary>What <see cref="SplitChainWalker.Next"/> found.</summary>
internal enum SplitWalkStep
{
    /// <summary>A validated buffer.</summary>
    Buffer,

    /// <summary>The chain ended (the last descriptor had no NEXT), every descriptor of it valid.</summary>
    End,

    /// <summary>The chain is malformed: <see cref="SplitChainWalker.Fault"/> says how; the walker stays stopped.</summary>
    Fault,
}
