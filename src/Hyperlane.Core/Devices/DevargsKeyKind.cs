namespace Hyperlane.Core.Devices;

/// <summary>The type of value a <see cref="DevargsSchema"/> key accepts.</summary>
public enum DevargsKeyKind
{
    /// <summary>A 64-bit signed integer in a range: decimal (optional sign) or <c>0x</c> hexadecimal.</summary>
    Int,

    /// <summary><c>0</c>, <c>1</c>, <c>false</c>, <c>true</c>, or the bare flag form (which means true).</summary>
    Bool,

    /// <summary>Free text, non-empty unless allowed, with an optional maximum length.</summary>
    String,

    /// <summary>Six two-digit hex octets separated by ':' or '-', or one of the driver's words.</summary>
    Mac,

    /// <summary>One of a fixed list of words (case-sensitive).</summary>
    Enum,

    /// <summary>Only valid as <c>key(value)</c>, e.g. failsafe's <c>dev(...)</c> and <c>exec(...)</c>.</summary>
    Parenthesized,

    /// <summary>A DPDK key Hyperlane knows but does not implement: giving it is always an error.</summary>
    Unsupported,
}
