using Hyperlane.Core.Devices;
using Microsoft.Extensions.Logging;

namespace Hyperlane.Core;

/// <summary>How to build a <see cref="HyperlaneRuntime"/>.</summary>
public sealed class HyperlaneRuntimeOptions
{
    /// <summary>Lcore ids (= CPU numbers); the first is the main lcore. Default: the first allowed CPU.</summary>
    public IReadOnlyList<int>? Lcores { get; init; }

    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Drivers to register.</summary>
    public IReadOnlyList<IVdevDriver> Drivers { get; init; } = [];
}
