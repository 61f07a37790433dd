namespace Hyperlane.Net.VdevNetvsc;

/// <summary>What one write of a VF line into a failsafe port's fd() pipe did.</summary>
public enum VfFeedResult
{
    /// <summary>The whole line went in.</summary>
    Written,

    /// <summary>The pipe was full (the failsafe port has not read it): tried again at the next check.</summary>
    Full,

    /// <summary>Only part of the line went in; a lone newline was written after it, so the failsafe port discards the piece.</summary>
    Short,

    /// <summary>The write failed (the failsafe port closed its end): the feed stops.</summary>
    Failed,
}
